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
assemble() joins them.
"""

from collections import OrderedDict
from typing import Any, Dict, Iterable, List, NamedTuple

from . import chains as ch

Obj = Dict[str, Any]
RuleSet = Dict[str, "OrderedDict[str, List[str]]"]  # table -> chain -> "-A CHAIN ..." lines

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
        ("nat_services", List[str]),  # lines for nat KUBE-SERVICES
        ("nat_nodeports", List[str]),  # lines for nat KUBE-NODEPORTS
        ("filter_services", List[str]),  # filter KUBE-SERVICES (REJECT: no endpoints)
        ("filter_external", List[str]),  # filter KUBE-EXTERNAL-SERVICES
        ("nat_chains", "OrderedDict[str, List[str]]"),  # this Service's own chains (EXT, SVC, SVL, SEP)
    ],
)


def endpoint_count(entry: Obj) -> int:
    return sum(len(p.get("endpoints") or []) for p in entry.get("ports") or [])


def is_large(entries: Iterable[Obj]) -> bool:
    return sum(endpoint_count(e) for e in entries) > LARGE_CLUSTER_ENDPOINTS


def probability(n: int) -> str:
    """kube-proxy's computeProbability: fmt "%0.10f" of 1/n."""
    return "%0.10f" % (1.0 / n)


def render_service(entry: Obj, ctx: ProxyContext, large: bool = False) -> ServiceRules:
    """The rules of one service-map entry (every port), as kube-proxy writes them."""
    out = ServiceRules([], [], [], [], OrderedDict())
    cluster_ip = str(entry.get("clusterIP") or "")
    if cluster_ip in ("", "None"):
        return out  # headless: DNS only, no proxying (kube-proxy skips them too)
    namespace, name = str(entry.get("namespace")), str(entry.get("name"))
    for port in entry.get("ports") or []:
        _render_port(out, entry, port, ch.service_port_name(namespace, name, str(port.get("name") or "")), cluster_ip, ctx, large)
    return out


def _render_port(out: ServiceRules, entry: Obj, port: Obj, spn: str, cluster_ip: str, ctx: ProxyContext, large: bool) -> None:
    protocol = str(port.get("protocol") or "TCP").lower()
    svc_port = str(port.get("port"))
    node_port = int(port.get("nodePort") or 0)
    endpoints = [(str(e["ip"]), "%s:%s" % (e["ip"], e["port"]), e.get("node") == ctx.node_name) for e in port.get("endpoints") or []]
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
    uses_cluster_chain = bool(cluster_eps)
    uses_local_chain = bool(local_eps)

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
        out.nat_services.append("-A %s %s -j %s" % (ch.SERVICES, cluster_match, internal_chain))
    else:
        out.filter_services.append(
            "-A %s -m comment --comment %s %s -d %s --dport %s -j %s"
            % (ch.SERVICES, internal_comment, match, cluster_ip, svc_port, internal_target)
        )
    if externally:
        if has_endpoints:
            out.nat_nodeports.append("-A %s -m comment --comment %s %s --dport %d -j %s" % (ch.NODEPORTS, spn, match, node_port, ext))
        if not has_external:
            out.filter_external.append(
                "-A %s -m comment --comment %s -m addrtype --dst-type LOCAL %s --dport %d -j %s"
                % (ch.EXTERNAL_SERVICES, external_comment, match, node_port, external_target)
            )

    chains = out.nat_chains
    if uses_ext_chain:
        chains[ext] = []
    if uses_cluster_chain:
        chains[svc] = []
    if uses_local_chain:
        chains[svl] = []
    if has_internal:
        chains[internal_chain].append("-A %s %s ! -s %s -j %s" % (internal_chain, cluster_match, ctx.cluster_cidr, ch.MARK_MASQ))
    if uses_ext_chain:
        rules = chains[ext]
        if not external_local:
            rules.append('-A %s -m comment --comment "masquerade traffic for %s external destinations" -j %s' % (ext, spn, ch.MARK_MASQ))
        else:
            rules.append('-A %s -m comment --comment "pod traffic for %s external destinations" -s %s -j %s' % (ext, spn, ctx.cluster_cidr, svc))
            rules.append(
                '-A %s -m comment --comment "masquerade LOCAL traffic for %s external destinations" -m addrtype --src-type LOCAL -j %s'
                % (ext, spn, ch.MARK_MASQ)
            )
            rules.append(
                '-A %s -m comment --comment "route LOCAL traffic for %s external destinations" -m addrtype --src-type LOCAL -j %s'
                % (ext, spn, svc)
            )
        if has_external:
            rules.append("-A %s -j %s" % (ext, external_policy_chain))
    if uses_cluster_chain:
        _endpoint_rules(chains[svc], svc, spn, protocol, cluster_eps, affinity, timeout, large)
    if uses_local_chain:
        _endpoint_rules(chains[svl], svl, spn, protocol, local_eps, affinity, timeout, large)
    for ip, endpoint, _local in reachable:
        sep = ch.sep_chain(spn, protocol, endpoint)
        head = "-A %s" % sep if large else "-A %s -m comment --comment %s" % (sep, spn)
        rules = [
            "%s -s %s -j %s" % (head, ip, ch.MARK_MASQ),
            "%s%s %s -j DNAT --to-destination %s"
            % (head, " -m recent --name %s --set" % sep if affinity else "", match, endpoint),
        ]
        chains[sep] = rules


def _endpoint_rules(rules: List[str], chain: str, spn: str, protocol: str, endpoints: List[Any], affinity: bool, timeout: int, large: bool) -> None:
    """writeServiceToEndpointRules: affinity checks first, then the random choice."""
    seps = [(ch.sep_chain(spn, protocol, endpoint), endpoint) for _ip, endpoint, _local in endpoints]

    def head(endpoint: str) -> str:
        return "-A %s" % chain if large else '-A %s -m comment --comment "%s -> %s"' % (chain, spn, endpoint)

    if affinity:
        for sep, endpoint in seps:
            rules.append("%s -m recent --name %s --rcheck --seconds %d --reap -j %s" % (head(endpoint), sep, timeout, sep))
    n = len(seps)
    for i, (sep, endpoint) in enumerate(seps):
        if i < n - 1:
            rules.append("%s -m statistic --mode random --probability %s -j %s" % (head(endpoint), probability(n - i), sep))
        else:
            rules.append("%s -j %s" % (head(endpoint), sep))


def assemble(services: Iterable[ServiceRules], ctx: ProxyContext) -> RuleSet:
    """Every Service's rules plus kube-proxy's fixed chains, in kube-proxy's order."""
    flt = OrderedDict()  # type: OrderedDict[str, List[str]]
    for chain in (ch.SERVICES, ch.EXTERNAL_SERVICES, ch.FORWARD, ch.NODEPORTS, ch.PROXY_FIREWALL):
        flt[chain] = []
    nat = OrderedDict()  # type: OrderedDict[str, List[str]]
    for chain in (ch.SERVICES, ch.NODEPORTS, ch.POSTROUTING, ch.MARK_MASQ):
        nat[chain] = []
    mark = "%s/%s" % (ctx.masquerade_mark, ctx.masquerade_mark)
    nat[ch.POSTROUTING] = [
        "-A %s -m mark ! --mark %s -j RETURN" % (ch.POSTROUTING, mark),
        "-A %s -j MARK --xor-mark %s" % (ch.POSTROUTING, ctx.masquerade_mark),
        '-A %s -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE%s'
        % (ch.POSTROUTING, " --random-fully" if ctx.random_fully else ""),
    ]
    nat[ch.MARK_MASQ] = ["-A %s -j MARK --or-mark %s" % (ch.MARK_MASQ, ctx.masquerade_mark)]
    for svc in services:
        flt[ch.SERVICES].extend(svc.filter_services)
        flt[ch.EXTERNAL_SERVICES].extend(svc.filter_external)
        nat[ch.SERVICES].extend(svc.nat_services)
        nat[ch.NODEPORTS].extend(svc.nat_nodeports)
        for chain, rules in svc.nat_chains.items():
            nat[chain] = rules
    if ctx.node_ips:
        for ip in ctx.node_ips:
            nat[ch.SERVICES].append("-A %s -m comment --comment %s -d %s -j %s" % (ch.SERVICES, NODEPORTS_COMMENT, ip, ch.NODEPORTS))
    else:
        nat[ch.SERVICES].append(
            "-A %s -m comment --comment %s -m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j %s"
            % (ch.SERVICES, NODEPORTS_COMMENT, ch.NODEPORTS)
        )
    flt[ch.FORWARD] = [
        "-A %s -m conntrack --ctstate INVALID -j DROP" % ch.FORWARD,
        '-A %s -m comment --comment "kubernetes forwarding rules" -m mark --mark %s -j ACCEPT' % (ch.FORWARD, mark),
        '-A %s -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
        % ch.FORWARD,
    ]
    return {"filter": flt, "nat": nat}


def render(entries: List[Obj], ctx: ProxyContext) -> RuleSet:
    """The whole RuleSet of a service map (entries in the order given; the proxier sorts)."""
    large = is_large(entries)
    return assemble([render_service(e, ctx, large) for e in entries], ctx)
