"""The service map rendered as kube-proxy's iptables rules (nat and filter), chain by chain.

Why chain by chain: the sync (iptables_sync.py) rewrites only the chains whose rules
changed, so the renderer's output is a RuleSet, an ordered map table -> chain -> rule
lines, not one blob. The rules are kube-proxy's own (pkg/proxy/iptables/proxier.go,
Kubernetes 1.28): the same chains, names, matches, comments and order, so `iptables-save`
on a kubeform host reads like one on a kubeadm host. Per Service port:

- ClusterIP with endpoints: ``KUBE-SERVICES -d <ip> --dport <port> -j KUBE-SVC-*`` (or
  KUBE-SVL-* with internalTrafficPolicy Local); the SVC chain first marks traffic from
  outside the pod network for masquerade (``! -s <cluster CIDR> -j KUBE-MARK-MASQ``), then
  picks endpoint i of n with ``-m statistic --mode random --probability 1/(n-i)``.
- No endpoints: the filter table's KUBE-SERVICES REJECTs the ClusterIP (and
  KUBE-EXTERNAL-SERVICES the NodePort) at once instead of letting clients hang.
- NodePort: ``KUBE-NODEPORTS --dport <nodePort> -j KUBE-EXT-*``, which marks for
  masquerade (Cluster policy) and goes on to the policy chain.
- KUBE-SEP-*: ``-s <endpoint ip> -j KUBE-MARK-MASQ`` (hairpin: a pod reaching itself
  through its Service), then the DNAT; sessionAffinity ClientIP adds ``-m recent``.

Pure: entries and a ProxyContext in, text out. Rendering is per Service (render_service)
so the proxier can keep the rules of unchanged Services between syncs (cache), and
assemble() joins them. Why text, not lists of rules: a chain's rules are one string
(lines each ending in a newline), so the diff compares one string per chain, a cached
Service's rules are reused as they are, and the restore input is a join of strings; at
10,000 Services that is what keeps a sync's Python time small next to iptables-restore's.
"""

from collections import OrderedDict
from typing import Any, Dict, Iterable, List, NamedTuple

from . import chains as ch

Obj = Dict[str, Any]
RuleSet = Dict[str, "OrderedDict[str, str]"]  # table -> chain -> its "-A CHAIN ...\n" lines, joined

# kube-proxy leaves comments off per-endpoint rules above this many endpoints in all
# (its largeClusterEndpointsThreshold): the restore input shrinks by ~40%.
LARGE_CLUSTER_ENDPOINTS = 1000

NODEPORTS_COMMENT = '"kubernetes service nodeports; NOTE: this must be the last rule in this chain"'

ProxyContext = NamedTuple(
    "ProxyContext",
    [
        ("node_name", str),  # endpoints whose "node" is this are local (Local traffic policies)
        ("node_ips", List[str]),  # addresses NodePorts answer on ([] = every local address)
        ("cluster_cidr", str),  # the pod network: traffic from elsewhere to a ClusterIP is masqueraded
        ("masquerade_mark", str),  # kube-proxy's masqueradeBit 14
        ("random_fully", bool),  # MASQUERADE --random-fully (iptables >= 1.6.2)
    ],
)


def context(node_name: str, node_ips: List[str], cluster_cidr: str, random_fully: bool = True) -> ProxyContext:
    return ProxyContext(node_name, list(node_ips), cluster_cidr, "0x4000", random_fully)


ServiceRules = NamedTuple(
    "ServiceRules",
    [
        ("nat_services", str),  # lines for nat KUBE-SERVICES
        ("nat_nodeports", str),  # lines for nat KUBE-NODEPORTS
        ("filter_services", str),  # filter KUBE-SERVICES (REJECT: no endpoints)
        ("filter_external", str),  # filter KUBE-EXTERNAL-SERVICES
        ("nat_chains", "OrderedDict[str, str]"),  # this Service's own chains (EXT, SVC, SVL, SEP)
    ],
)

EMPTY = ServiceRules("", "", "", "", OrderedDict())


def endpoint_count(entry: Obj) -> int:
    return sum(len(p.get("endpoints") or []) for p in entry.get("ports") or [])


def is_large(entries: Iterable[Obj]) -> bool:
    return sum(endpoint_count(e) for e in entries) > LARGE_CLUSTER_ENDPOINTS


def probability(n: int) -> str:
    """kube-proxy's computeProbability: fmt "%0.10f" of 1/n."""
    return "%0.10f" % (1.0 / n)


def lines(text: str) -> List[str]:
    """A chain's rules as a list of lines (for tests and readers)."""
    return text.splitlines()


def render_service(entry: Obj, ctx: ProxyContext, large: bool = False) -> ServiceRules:
    """The rules of one service-map entry (every port), as kube-proxy writes them."""
    cluster_ip = str(entry.get("clusterIP") or "")
    if cluster_ip in ("", "None"):
        return EMPTY  # headless: DNS only, no proxying (kube-proxy skips them too)
    namespace, name = str(entry.get("namespace")), str(entry.get("name"))
    parts = [[], [], [], []]  # type: List[List[str]]
    chains = OrderedDict()  # type: OrderedDict[str, str]
    for port in entry.get("ports") or []:
        _render_port(parts, chains, entry, port, ch.service_port_name(namespace, name, str(port.get("name") or "")), cluster_ip, ctx, large)
    return ServiceRules("".join(parts[0]), "".join(parts[1]), "".join(parts[2]), "".join(parts[3]), chains)


def _render_port(
    parts: List[List[str]], chains: "OrderedDict[str, str]", entry: Obj, port: Obj, spn: str, cluster_ip: str, ctx: ProxyContext, large: bool
) -> None:
    protocol = str(port.get("protocol") or "TCP").lower()
    svc_port = str(port.get("port"))
    node_port = int(port.get("nodePort") or 0)
    node_name = ctx.node_name
    # (ip, "ip:port", local, KUBE-SEP- name)
    endpoints = []
    for e in port.get("endpoints") or []:
        endpoint = "%s:%s" % (e["ip"], e["port"])
        endpoints.append((str(e["ip"]), endpoint, e.get("node") == node_name, ch.sep_chain(spn, protocol, endpoint)))
    affinity = entry.get("sessionAffinity") == "ClientIP"
    timeout = int(entry.get("affinityTimeout") or 10800)
    internal_local = entry.get("internalTrafficPolicy") == "Local"
    externally = node_port != 0
    external_local = externally and entry.get("externalTrafficPolicy") == "Local"

    # proxy.CategorizeEndpoints: who is reachable from here under each policy
    uses_cluster = not internal_local or (externally and not external_local)
    uses_local = internal_local or external_local
    cluster_eps = endpoints if uses_cluster else []
    local_eps = [e for e in endpoints if e[2]] if uses_local else []
    reachable = [e for e in endpoints if (uses_cluster or e[2])] if endpoints else []
    has_endpoints = bool(endpoints)

    port_hash = ch.port_proto_hash(spn, protocol)
    svc, svl, ext = ch.SVC_PREFIX + port_hash, ch.SVL_PREFIX + port_hash, ch.EXT_PREFIX + port_hash

    internal_chain, has_internal = svc, has_endpoints
    if internal_local:
        internal_chain, has_internal = svl, bool(local_eps)
    external_policy_chain, has_external = svc, has_endpoints
    if external_local:
        external_policy_chain, has_external = svl, bool(local_eps)
    uses_ext_chain = has_endpoints and externally

    internal_target = external_target = ""
    internal_comment = external_comment = ""
    if not has_endpoints:
        internal_target = external_target = "REJECT"
        internal_comment = external_comment = '"%s has no endpoints"' % spn
    else:
        if not has_internal:
            internal_target, internal_comment = "DROP", '"%s has no local endpoints"' % spn
        if not has_external:
            external_target, external_comment = "DROP", '"%s has no local endpoints"' % spn

    match = "-m %s -p %s" % (protocol, protocol)
    cluster_match = '-m comment --comment "%s cluster IP" %s -d %s --dport %s' % (spn, match, cluster_ip, svc_port)
    if has_internal:
        parts[0].append("-A %s %s -j %s\n" % (ch.SERVICES, cluster_match, internal_chain))
    else:
        parts[2].append(
            "-A %s -m comment --comment %s %s -d %s --dport %s -j %s\n"
            % (ch.SERVICES, internal_comment, match, cluster_ip, svc_port, internal_target)
        )
    if externally:
        if has_endpoints:
            parts[1].append("-A %s -m comment --comment %s %s --dport %d -j %s\n" % (ch.NODEPORTS, spn, match, node_port, ext))
        if not has_external:
            parts[3].append(
                "-A %s -m comment --comment %s -m addrtype --dst-type LOCAL %s --dport %d -j %s\n"
                % (ch.EXTERNAL_SERVICES, external_comment, match, node_port, external_target)
            )

    masq = "-A %s %s ! -s %s -j %s\n" % (internal_chain, cluster_match, ctx.cluster_cidr, ch.MARK_MASQ) if has_internal else ""
    if uses_ext_chain:
        if not external_local:
            rules = '-A %s -m comment --comment "masquerade traffic for %s external destinations" -j %s\n' % (ext, spn, ch.MARK_MASQ)
        else:
            rules = (
                '-A %s -m comment --comment "pod traffic for %s external destinations" -s %s -j %s\n'
                '-A %s -m comment --comment "masquerade LOCAL traffic for %s external destinations" -m addrtype --src-type LOCAL -j %s\n'
                '-A %s -m comment --comment "route LOCAL traffic for %s external destinations" -m addrtype --src-type LOCAL -j %s\n'
                % (ext, spn, ctx.cluster_cidr, svc, ext, spn, ch.MARK_MASQ, ext, spn, svc)
            )
        if has_external:
            rules += "-A %s -j %s\n" % (ext, external_policy_chain)
        chains[ext] = rules
    if cluster_eps:
        chains[svc] = (masq if internal_chain == svc else "") + _endpoint_rules(svc, spn, cluster_eps, affinity, timeout, large)
    if local_eps:
        chains[svl] = (masq if internal_chain == svl else "") + _endpoint_rules(svl, spn, local_eps, affinity, timeout, large)
    for ip, endpoint, _local, sep in reachable:
        head = "-A %s" % sep if large else "-A %s -m comment --comment %s" % (sep, spn)
        chains[sep] = "%s -s %s -j %s\n%s%s %s -j DNAT --to-destination %s\n" % (
            head,
            ip,
            ch.MARK_MASQ,
            head,
            " -m recent --name %s --set" % sep if affinity else "",
            match,
            endpoint,
        )


def _endpoint_rules(chain: str, spn: str, endpoints: List[Any], affinity: bool, timeout: int, large: bool) -> str:
    """writeServiceToEndpointRules: affinity checks first, then the random choice."""
    out = []  # type: List[str]
    if large:
        heads = ["-A %s" % chain] * len(endpoints)
    else:
        heads = ['-A %s -m comment --comment "%s -> %s"' % (chain, spn, e[1]) for e in endpoints]
    if affinity:
        for h, e in zip(heads, endpoints):
            out.append("%s -m recent --name %s --rcheck --seconds %d --reap -j %s\n" % (h, e[3], timeout, e[3]))
    n = len(endpoints)
    for i, (h, e) in enumerate(zip(heads, endpoints)):
        if i < n - 1:
            out.append("%s -m statistic --mode random --probability %s -j %s\n" % (h, probability(n - i), e[3]))
        else:
            out.append("%s -j %s\n" % (h, e[3]))
    return "".join(out)


def shared_chains(services: List[ServiceRules], ctx: ProxyContext) -> RuleSet:
    """kube-proxy's fixed chains (filter's five, nat's KUBE-SERVICES, KUBE-NODEPORTS,
    KUBE-POSTROUTING, KUBE-MARK-MASQ), filled from every Service's part, in order."""
    mark = "%s/%s" % (ctx.masquerade_mark, ctx.masquerade_mark)
    if ctx.node_ips:
        nodeports = "".join(
            "-A %s -m comment --comment %s -d %s -j %s\n" % (ch.SERVICES, NODEPORTS_COMMENT, ip, ch.NODEPORTS) for ip in ctx.node_ips
        )
    else:
        nodeports = "-A %s -m comment --comment %s -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j %s\n" % (
            ch.SERVICES,
            NODEPORTS_COMMENT,
            ch.NODEPORTS,
        )
    flt = OrderedDict()  # type: OrderedDict[str, str]
    flt[ch.SERVICES] = "".join([s.filter_services for s in services])
    flt[ch.EXTERNAL_SERVICES] = "".join([s.filter_external for s in services])
    flt[ch.FORWARD] = (
        "-A %s -m conntrack --ctstate INVALID -j DROP\n"
        '-A %s -m comment --comment "kubernetes forwarding rules" -m mark --mark %s -j ACCEPT\n'
        '-A %s -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n'
        % (ch.FORWARD, ch.FORWARD, mark, ch.FORWARD)
    )
    flt[ch.NODEPORTS] = ""
    flt[ch.PROXY_FIREWALL] = ""
    nat = OrderedDict()  # type: OrderedDict[str, str]
    nat[ch.SERVICES] = "".join([s.nat_services for s in services]) + nodeports
    nat[ch.NODEPORTS] = "".join([s.nat_nodeports for s in services])
    nat[ch.POSTROUTING] = (
        "-A %s -m mark ! --mark %s -j RETURN\n"
        "-A %s -j MARK --xor-mark %s\n"
        '-A %s -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE%s\n'
        % (ch.POSTROUTING, mark, ch.POSTROUTING, ctx.masquerade_mark, ch.POSTROUTING, " --random-fully" if ctx.random_fully else "")
    )
    nat[ch.MARK_MASQ] = "-A %s -j MARK --or-mark %s\n" % (ch.MARK_MASQ, ctx.masquerade_mark)
    return {"filter": flt, "nat": nat}


def shared_ruleset(ruleset: RuleSet) -> RuleSet:
    """The fixed chains of a whole RuleSet (what partial syncs keep as applied)."""
    fixed = ((ch.SERVICES, ch.EXTERNAL_SERVICES, ch.FORWARD, ch.NODEPORTS, ch.PROXY_FIREWALL), (ch.SERVICES, ch.NODEPORTS, ch.POSTROUTING, ch.MARK_MASQ))
    return dict(
        (table, OrderedDict((c, ruleset[table][c]) for c in names if c in ruleset[table])) for table, names in zip(("filter", "nat"), fixed)
    )


def assemble(services: Iterable[ServiceRules], ctx: ProxyContext) -> RuleSet:
    """Every Service's rules plus kube-proxy's fixed chains, in kube-proxy's order."""
    services = list(services)
    out = shared_chains(services, ctx)
    nat = out["nat"]
    for svc in services:
        nat.update(svc.nat_chains)
    return out


def render(entries: List[Obj], ctx: ProxyContext) -> RuleSet:
    """The whole RuleSet of a service map (entries in the order given; the proxier sorts)."""
    large = is_large(entries)
    return assemble([render_service(e, ctx, large) for e in entries], ctx)
