"""The service map rendered for ipvs mode: virtual servers, kube-ipvs0 addresses, ipsets and helper rules.

Why ipvs: one hash lookup per packet instead of a walk down KUBE-SERVICES, and the
seed notes' round-robin literally (scheduler rr). The layout is kube-proxy's ipvs mode
(pkg/proxy/ipvs/proxier.go): every ClusterIP on the dummy device ``kube-ipvs0`` (so the
host accepts packets to it), one virtual server per ClusterIP:port and per node
address:NodePort, one real server per ready endpoint (masquerading forward, weight 1),
sessionAffinity ClientIP as ipvs persistence; and iptables only for what ipvs cannot do,
driven by ipsets so the rule count stays constant: KUBE-CLUSTER-IP (masquerade traffic
from outside the pod network), KUBE-LOOP-BACK (hairpin), KUBE-NODE-PORT-TCP/UDP.

Pure: entries and a ProxyContext in; ipvsadm-restore text, ipset-restore text, a
RuleSet and the address list out. The diff against what the kernel has is here too
(ipvs_commands), so applying touches only what changed: existing connections to
unchanged real servers are never disturbed.
"""

from collections import OrderedDict
from typing import Any, Dict, List, NamedTuple, Tuple

from . import chains as ch
from .iptables_rules import ProxyContext, RuleSet

Obj = Dict[str, Any]

DUMMY_DEVICE = "kube-ipvs0"
NODE_PORT = "KUBE-NODE-PORT"
CLUSTER_IP_SET = "KUBE-CLUSTER-IP"
LOOP_BACK_SET = "KUBE-LOOP-BACK"
NODE_PORT_SETS = {"tcp": "KUBE-NODE-PORT-TCP", "udp": "KUBE-NODE-PORT-UDP"}
SET_TYPES = OrderedDict(
    [
        (LOOP_BACK_SET, ("hash:ip,port,ip", "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose")),
        (CLUSTER_IP_SET, ("hash:ip,port", "Kubernetes service cluster ip + port for masquerade purpose")),
        ("KUBE-NODE-PORT-TCP", ("bitmap:port", "Kubernetes nodeport TCP port for masquerade purpose")),
        ("KUBE-NODE-PORT-UDP", ("bitmap:port", "Kubernetes nodeport UDP port for masquerade purpose")),
    ]
)
PROTO_FLAG = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}

IpvsState = NamedTuple(
    "IpvsState",
    [
        # "<flag> <ip>:<port>" -> (scheduler, persistence seconds or 0, [real "ip:port", ...])
        ("virtual", "OrderedDict[str, Tuple[str, int, List[str]]]"),
        ("addresses", List[str]),  # ClusterIPs bound to kube-ipvs0
        ("ipsets", "OrderedDict[str, List[str]]"),  # set name -> members
        ("rules", RuleSet),
    ],
)


def render(entries: List[Obj], ctx: ProxyContext) -> IpvsState:
    virtual = OrderedDict()  # type: OrderedDict[str, Tuple[str, int, List[str]]]
    addresses = set()
    sets = OrderedDict((name, set()) for name in SET_TYPES)  # type: OrderedDict[str, Any]
    for entry in entries:
        cluster_ip = str(entry.get("clusterIP") or "")
        if cluster_ip in ("", "None"):
            continue
        persistent = int(entry.get("affinityTimeout") or 10800) if entry.get("sessionAffinity") == "ClientIP" else 0
        internal_local = entry.get("internalTrafficPolicy") == "Local"
        external_local = entry.get("externalTrafficPolicy") == "Local"
        addresses.add(cluster_ip)
        for port in entry.get("ports") or []:
            proto = str(port.get("protocol") or "TCP").lower()
            flag = PROTO_FLAG.get(proto, "-t")
            eps = port.get("endpoints") or []
            every = ["%s:%s" % (e["ip"], e["port"]) for e in eps]
            local = ["%s:%s" % (e["ip"], e["port"]) for e in eps if e.get("node") == ctx.node_name]
            virtual["%s %s:%s" % (flag, cluster_ip, port.get("port"))] = ("rr", persistent, local if internal_local else every)
            sets[CLUSTER_IP_SET].add("%s,%s:%s" % (cluster_ip, proto, port.get("port")))
            for e in eps:
                if e.get("node") == ctx.node_name:
                    sets[LOOP_BACK_SET].add("%s,%s:%s,%s" % (e["ip"], proto, e["port"], e["ip"]))
            node_port = int(port.get("nodePort") or 0)
            if node_port:
                for ip in ctx.node_ips:
                    virtual["%s %s:%d" % (flag, ip, node_port)] = ("rr", persistent, local if external_local else every)
                if proto in NODE_PORT_SETS:
                    sets[NODE_PORT_SETS[proto]].add(str(node_port))
    ipsets = OrderedDict((name, sorted(members)) for name, members in sets.items())  # type: OrderedDict[str, List[str]]
    return IpvsState(virtual, sorted(addresses), ipsets, helper_rules(ctx))


def helper_rules(ctx: ProxyContext) -> RuleSet:
    """kube-proxy ipvs mode's iptables rules (constant: the ipsets carry the services)."""
    mark = "%s/%s" % (ctx.masquerade_mark, ctx.masquerade_mark)
    nat = OrderedDict()  # type: OrderedDict[str, List[str]]
    nat[ch.SERVICES] = [
        "-A %s -s 127.0.0.0/8 -j RETURN" % ch.SERVICES,
        '-A %s -m comment --comment "%s" -m set --match-set %s dst,dst ! -s %s -j %s'
        % (ch.SERVICES, SET_TYPES[CLUSTER_IP_SET][1], CLUSTER_IP_SET, ctx.cluster_cidr, ch.MARK_MASQ),
        "-A %s -m addrtype --dst-type LOCAL -j %s" % (ch.SERVICES, NODE_PORT),
        "-A %s -m set --match-set %s dst,dst -j ACCEPT" % (ch.SERVICES, CLUSTER_IP_SET),
    ]
    nat[NODE_PORT] = [
        '-A %s -p %s -m comment --comment "%s" -m set --match-set %s dst -j %s' % (NODE_PORT, proto, SET_TYPES[name][1], name, ch.MARK_MASQ)
        for proto, name in sorted(NODE_PORT_SETS.items())
    ]
    nat[ch.POSTROUTING] = [
        '-A %s -m comment --comment "%s" -m set --match-set %s dst,dst,src -j MASQUERADE'
        % (ch.POSTROUTING, SET_TYPES[LOOP_BACK_SET][1], LOOP_BACK_SET),
        "-A %s -m mark ! --mark %s -j RETURN" % (ch.POSTROUTING, mark),
        "-A %s -j MARK --xor-mark %s" % (ch.POSTROUTING, ctx.masquerade_mark),
        '-A %s -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE%s'
        % (ch.POSTROUTING, " --random-fully" if ctx.random_fully else ""),
    ]
    nat[ch.MARK_MASQ] = ["-A %s -j MARK --or-mark %s" % (ch.MARK_MASQ, ctx.masquerade_mark)]
    flt = OrderedDict()  # type: OrderedDict[str, List[str]]
    flt[ch.FORWARD] = [
        '-A %s -m comment --comment "kubernetes forwarding rules" -m mark --mark %s -j ACCEPT' % (ch.FORWARD, mark),
        '-A %s -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT'
        % ch.FORWARD,
    ]
    return {"filter": _joined(flt), "nat": _joined(nat)}


def _joined(table: "OrderedDict[str, List[str]]") -> "OrderedDict[str, str]":
    """Chain -> its rule lines as one string (the RuleSet form iptables_sync diffs)."""
    return OrderedDict((chain, "".join(line + "\n" for line in rules)) for chain, rules in table.items())


def ipvsadm_text(virtual: "OrderedDict[str, Tuple[str, int, List[str]]]") -> str:
    """The whole table as ipvsadm-restore input (what `ipvsadm -Sn` would print)."""
    out = []  # type: List[str]
    for vs, (sched, persistent, reals) in virtual.items():
        out.append("-A %s -s %s%s" % (vs, sched, " -p %d" % persistent if persistent else ""))
        out.extend("-a %s -r %s -m -w 1" % (vs, real) for real in reals)
    return "\n".join(out) + "\n" if out else ""


def parse_ipvsadm_save(text: str) -> "OrderedDict[str, Tuple[str, int, List[str]]]":
    """`ipvsadm -Sn` output back into virtual servers (flags as ipvsadm writes them)."""
    virtual = OrderedDict()  # type: OrderedDict[str, Tuple[str, int, List[str]]]
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3:
            continue
        vs = "%s %s" % (words[1], words[2])
        if words[0] == "-A":
            sched = words[words.index("-s") + 1] if "-s" in words else "wlc"
            persistent = int(words[words.index("-p") + 1]) if "-p" in words else 0
            virtual[vs] = (sched, persistent, [])
        elif words[0] == "-a" and vs in virtual and "-r" in words:
            virtual[vs][2].append(words[words.index("-r") + 1])
    return virtual


def ipvs_commands(desired: "OrderedDict[str, Tuple[str, int, List[str]]]", current: "OrderedDict[str, Tuple[str, int, List[str]]]") -> str:
    """ipvsadm-restore input turning current into desired, touching only what differs."""
    out = []  # type: List[str]
    for vs in current:
        if vs not in desired:
            out.append("-D %s" % vs)
    for vs, (sched, persistent, reals) in desired.items():
        opts = "-s %s%s" % (sched, " -p %d" % persistent if persistent else "")
        had = current.get(vs)
        if had is None:
            out.append("-A %s %s" % (vs, opts))
            have = []  # type: List[str]
        else:
            if (had[0], had[1]) != (sched, persistent):
                out.append("-E %s %s" % (vs, opts))
            have = had[2]
        out.extend("-d %s -r %s" % (vs, r) for r in have if r not in reals)
        out.extend("-a %s -r %s -m -w 1" % (vs, r) for r in reals if r not in have)
    return "\n".join(out) + "\n" if out else ""


def ipset_text(ipsets: "OrderedDict[str, List[str]]") -> str:
    """ipset-restore input: each set filled under a temporary name, then swapped in
    atomically (the rules matching it never see it half-filled)."""
    out = []  # type: List[str]
    for name, members in ipsets.items():
        set_type = SET_TYPES[name][0]
        opts = " range 0-65535" if set_type.startswith("bitmap:port") else ""
        tmp = name + "-TMP"
        out.append("create %s %s%s -exist" % (name, set_type, opts))
        out.append("create %s %s%s -exist" % (tmp, set_type, opts))
        out.append("flush %s" % tmp)
        out.extend("add %s %s" % (tmp, m) for m in members)
        out.append("swap %s %s" % (tmp, name))
        out.append("destroy %s" % tmp)
    return "\n".join(out) + "\n" if out else ""


def address_commands(desired: List[str], current: List[str]) -> List[List[str]]:
    """`ip` argv making kube-ipvs0 hold exactly the desired ClusterIPs (as /32)."""
    want, have = set(desired), set(current)
    out = [["ip", "addr", "add", "%s/32" % ip, "dev", DUMMY_DEVICE] for ip in sorted(want - have)]
    out += [["ip", "addr", "del", "%s/32" % ip, "dev", DUMMY_DEVICE] for ip in sorted(have - want)]
    return out
