"""The overlay as data: desired state from leases, current state from `ip`, and the commands between.

Why pure: every loop iteration of the agent reads the leases and the host's devices, and
converges; nothing depends on having seen an event. Keeping the decision a function of
(desired, current) -> [argv] makes it testable from files (tests/data/network/overlay/)
and lets the same code drive a host or a network namespace (the executor adds the
`ip netns exec NS` prefix, not this module).

The layout is flanneld's: vxlan device flannel.<VNI> with a /32 address <subnet>.0, and per
remote host one permanent neighbour (<remote>.0 -> VtepMAC), one fdb entry (VtepMAC -> its
PublicIP) and one onlink route (<remote subnet> via <remote>.0); host-gw instead routes each
remote subnet via the remote PublicIP. Pods sit on the cni0 bridge holding <subnet>.1.
"""

import ipaddress
import json
import shlex
from typing import Any, Dict, List, Optional, Set

from .flannel import Lease, NetworkConfig, overlay_mtu, vtep_mac_for
from .hoststate import IPT_COMMENT, Current, Link

BRIDGE = "cni0"

Argv = List[str]


class Peer(object):
    """A remote host as the overlay needs it."""

    def __init__(self, subnet, public_ip, vtep_mac=""):
        # type: (ipaddress.IPv4Network, str, str) -> None
        self.subnet = subnet
        self.public_ip = public_ip
        self.vtep_mac = vtep_mac.lower()

    @property
    def gateway(self):
        # type: () -> str
        """The remote flannel.1 address (<remote subnet>.0), the vxlan route's next hop."""
        return str(self.subnet.network_address)


class Desired(object):
    """Everything this host's overlay should look like."""

    def __init__(self, config, subnet, public_ip, external_mtu, peers, ext_dev=None, ipmasq=True):
        # type: (NetworkConfig, ipaddress.IPv4Network, str, int, List[Peer], Optional[str], bool) -> None
        self.config = config
        self.backend = config.backend_type
        self.network = config.network
        self.subnet = subnet
        self.public_ip = public_ip
        self.mtu = overlay_mtu(config, external_mtu)
        self.peers = sorted(peers, key=lambda p: int(p.subnet.network_address))
        self.ext_dev = ext_dev
        self.ipmasq = ipmasq
        self.vtep_mac = vtep_mac_for(public_ip)

    @property
    def vxlan_dev(self):
        # type: () -> str
        return "flannel.%d" % self.config.vni

    @property
    def vxlan_addr(self):
        # type: () -> str
        return "%s/32" % self.subnet.network_address

    @property
    def bridge_addr(self):
        # type: () -> str
        return "%s/%d" % (ipaddress.IPv4Address(int(self.subnet.network_address) + 1), self.subnet.prefixlen)


def desired_state(config, subnet, public_ip, external_mtu, leases, ext_dev=None, ipmasq=True):
    # type: (NetworkConfig, ipaddress.IPv4Network, str, int, List[Lease], Optional[str], bool) -> Desired
    """Peers are the other hosts' leases of my backend type (flanneld ignores the rest)."""
    peers = []  # type: List[Peer]
    for lease in leases:
        if lease.subnet == subnet or lease.public_ip == public_ip:
            continue
        if lease.backend_type != config.backend_type:
            continue
        if config.backend_type == "vxlan" and not lease.vtep_mac:
            continue
        peers.append(Peer(lease.subnet, lease.public_ip, lease.vtep_mac))
    return Desired(config, subnet, public_ip, external_mtu, peers, ext_dev, ipmasq)


# -- current state ------------------------------------------------------------------------


# -- the plan -----------------------------------------------------------------------------


def desired_rules(desired):
    # type: (Desired) -> Dict[str, List[str]]
    """Our iptables rules as `iptables -S` prints them (so comparing is string equality)."""
    net = str(desired.network)
    tag = "-m comment --comment %s" % IPT_COMMENT
    nat = []  # type: List[str]
    if desired.ipmasq:
        nat.append("-s %s ! -d %s %s -j MASQUERADE" % (net, net, tag))
    forward = ["-s %s %s -j ACCEPT" % (net, tag), "-d %s %s -j ACCEPT" % (net, tag)]
    return {"nat POSTROUTING": nat, "filter FORWARD": forward}


def _plan_link_addrs(dev, want, link):
    # type: (str, List[str], Optional[Link]) -> List[Argv]
    have = link.addrs if link else []
    cmds = [["ip", "addr", "del", a, "dev", dev] for a in have if a not in want]
    cmds += [["ip", "addr", "add", a, "dev", dev] for a in want if a not in have]
    return cmds


def _plan_vxlan_device(d, cur):
    # type: (Desired, Current) -> List[Argv]
    """Create, fix or recreate flannel.<VNI>; a recreated device starts with no entries."""
    dev = d.vxlan_dev
    link = cur.links.get(dev)
    cmds = []  # type: List[Argv]
    if link is not None:
        vx = link.vxlan
        if (
            link.kind != "vxlan"
            or vx.get("id") != d.config.vni
            or vx.get("local") != d.public_ip
            or vx.get("port") != d.config.port
            or vx.get("learning")
        ):
            cmds.append(["ip", "link", "del", dev])
            link = None
    if link is None:
        add = ["ip", "link", "add", dev, "address", d.vtep_mac, "type", "vxlan", "id", str(d.config.vni), "local", d.public_ip]
        if d.ext_dev:
            add += ["dev", d.ext_dev]
        add += ["dstport", str(d.config.port), "nolearning"]
        cmds.append(add)
        cmds.append(["ip", "link", "set", dev, "mtu", str(d.mtu)])
    else:
        if link.mac != d.vtep_mac:
            cmds.append(["ip", "link", "set", dev, "address", d.vtep_mac])
        if link.mtu != d.mtu:
            cmds.append(["ip", "link", "set", dev, "mtu", str(d.mtu)])
    cmds += _plan_link_addrs(dev, [d.vxlan_addr], link)
    if link is None or not link.up:
        cmds.append(["ip", "link", "set", dev, "up"])
    return cmds


def _plan_bridge(d, cur):
    # type: (Desired, Current) -> List[Argv]
    link = cur.links.get(BRIDGE)
    cmds = []  # type: List[Argv]
    if link is not None and link.kind != "bridge":
        cmds.append(["ip", "link", "del", BRIDGE])
        link = None
    if link is None:
        cmds.append(["ip", "link", "add", BRIDGE, "type", "bridge"])
        cmds.append(["ip", "link", "set", BRIDGE, "mtu", str(d.mtu)])
    elif link.mtu != d.mtu:
        cmds.append(["ip", "link", "set", BRIDGE, "mtu", str(d.mtu)])
    cmds += _plan_link_addrs(BRIDGE, [d.bridge_addr], link)
    if link is None or not link.up:
        cmds.append(["ip", "link", "set", BRIDGE, "up"])
    return cmds


def _in_network(dst, network):
    # type: (str, ipaddress.IPv4Network) -> bool
    if dst == "default":
        return False
    try:
        net = ipaddress.IPv4Network(dst, strict=False)
    except (ValueError, TypeError):
        return False
    # (IPv4Network.subnet_of is 3.7+; the agent runs on 3.6.)
    return net.network_address >= network.network_address and net.broadcast_address <= network.broadcast_address


def _plan_routes(d, cur, dev):
    # type: (Desired, Current, Optional[str]) -> List[Argv]
    """Routes to peer subnets: replace wrong or missing ones, delete stale ones in Network."""
    want = {}  # type: Dict[str, Peer]
    for p in d.peers:
        want[str(p.subnet)] = p
    cmds = []  # type: List[Argv]
    seen = set()  # type: Set[str]
    for r in cur.routes:
        if r.protocol == "kernel" or r.dev == BRIDGE or not _in_network(r.dst, d.network):
            continue
        # A route to our own subnet other than cni0's (an earlier cluster's host-gw route,
        # say) is not in `want`, so it goes: left alone it would take our pods' replies.
        peer = want.get(r.dst)
        if peer is None:
            cmds.append(["ip", "route", "del", r.dst] + (["dev", r.dev] if r.dev else []))
            continue
        if dev is not None:
            ok = r.gateway == peer.gateway and r.dev == dev and r.onlink
        else:
            ok = r.gateway == peer.public_ip
        if ok:
            seen.add(r.dst)
    for key, peer in sorted(want.items(), key=lambda kv: int(kv[1].subnet.network_address)):
        if key in seen:
            continue
        if dev is not None:
            cmds.append(["ip", "route", "replace", key, "via", peer.gateway, "dev", dev, "onlink"])
        else:
            cmds.append(["ip", "route", "replace", key, "via", peer.public_ip])
    return cmds


def _plan_vxlan_peers(d, cur):
    # type: (Desired, Current) -> List[Argv]
    dev = d.vxlan_dev
    cmds = []  # type: List[Argv]
    want_neigh = {p.gateway: p.vtep_mac for p in d.peers}
    want_fdb = {p.vtep_mac: p.public_ip for p in d.peers}
    have_neigh = {n["dst"]: n for n in cur.neigh if n["dev"] == dev}
    have_fdb = {}  # type: Dict[str, Set[str]]
    for f in cur.fdb:
        if f["dev"] == dev:
            have_fdb.setdefault(f["mac"], set()).add(f["dst"])
    # Stale first (routes, then neighbours, then fdb: the reverse of adding).
    for ip in sorted(have_neigh):
        if ip not in want_neigh:
            cmds.append(["ip", "neigh", "del", ip, "dev", dev])
    for mac, dsts in sorted(have_fdb.items()):
        if mac == "00:00:00:00:00:00":
            continue  # a default remote someone else configured: not a peer entry
        for dst in sorted(dsts):
            if want_fdb.get(mac) != dst:
                cmds.append(["bridge", "fdb", "del", mac, "dev", dev, "dst", dst, "self"])
    # Then what is missing or wrong, in flanneld's order: neighbour, fdb, route.
    for p in d.peers:
        n = have_neigh.get(p.gateway)
        if n is None or n["lladdr"] != p.vtep_mac or not n["permanent"]:
            cmds.append(["ip", "neigh", "replace", p.gateway, "lladdr", p.vtep_mac, "dev", dev, "nud", "permanent"])
        if p.public_ip not in have_fdb.get(p.vtep_mac, set()):
            cmds.append(["bridge", "fdb", "append", p.vtep_mac, "dev", dev, "dst", p.public_ip, "self", "permanent"])
    return cmds


def _plan_rules(d, cur):
    # type: (Desired, Current) -> List[Argv]
    cmds = []  # type: List[Argv]
    want = desired_rules(d)
    for where in sorted(want):
        table, chain = where.split()
        have = cur.rules.get(where, [])
        for spec in have:
            if spec not in want[where]:
                cmds.append(["iptables", "-w", "-t", table, "-D", chain] + shlex.split(spec))
        for spec in want[where]:
            if spec not in have:
                cmds.append(["iptables", "-w", "-t", table, "-A", chain] + shlex.split(spec))
    return cmds


def _without_dev(cur, dev):
    # type: (Current, str) -> Current
    """cur as it is once dev is deleted: its routes, neighbours and fdb entries go with it."""
    out = Current()
    out.links = {name: link for name, link in cur.links.items() if name != dev}
    out.neigh = [n for n in cur.neigh if n["dev"] != dev]
    out.fdb = [f for f in cur.fdb if f["dev"] != dev]
    out.routes = [r for r in cur.routes if r.dev != dev]
    out.ip_forward = cur.ip_forward
    out.rules = cur.rules
    return out


def plan(d, cur):
    # type: (Desired, Current) -> List[Argv]
    """The commands that take the host from cur to d (empty when converged)."""
    cmds = []  # type: List[Argv]
    if d.backend == "vxlan":
        dev_cmds = _plan_vxlan_device(d, cur)
        cmds += dev_cmds
        if any(c[:3] == ["ip", "link", "add"] for c in dev_cmds):
            cur = _without_dev(cur, d.vxlan_dev)
        route_cmds = _plan_routes(d, cur, d.vxlan_dev)
        dels = [c for c in route_cmds if c[2] == "del"]
        adds = [c for c in route_cmds if c[2] != "del"]
        peer_cmds = _plan_vxlan_peers(d, cur)
        cmds += dels + peer_cmds + adds
    else:
        for name, link in sorted(cur.links.items()):
            if link.kind == "vxlan" and name.startswith("flannel."):
                cmds.append(["ip", "link", "del", name])
                cur = _without_dev(cur, name)
        cmds += _plan_routes(d, cur, None)
    cmds += _plan_bridge(d, cur)
    if cur.ip_forward != "1":
        cmds.append(["sysctl", "-w", "net.ipv4.ip_forward=1"])
    cmds += _plan_rules(d, cur)
    return cmds


def render(cmds):
    # type: (List[Argv]) -> List[str]
    """Commands as shell-quoted lines (test data and logs)."""
    return [" ".join(shlex.quote(a) for a in c) for c in cmds]
