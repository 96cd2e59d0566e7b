"""The host's network as `ip`, `bridge`, `sysctl` and `iptables -S` show it, read into data.

Why its own room: the overlay's decision (overlay.plan) compares this with the desired
state; reading it is a parsing problem of its own, in two dialects: iproute2's JSON
(`-j`, iproute2 >= 4.13) and the plain text of the old iproute2 on CentOS 7, which the
executor marks with a "link" key. Both parse into the same ``Current``. Cases:
tests/data/network/ and tests/unit/agent/test_hoststate.py.
"""

import json
from typing import Any, Dict, List, Optional

#: The iptables comment on every rule the overlay owns (parse_rules keeps only those).
IPT_COMMENT = "kubeform-flannel"


class Link(object):
    """One network device, reduced to the facts the overlay compares."""

    def __init__(self, name, kind, mtu, mac, up, addrs, vxlan=None):
        # type: (str, str, int, str, bool, List[str], Optional[Dict[str, Any]]) -> None
        self.name = name
        self.kind = kind
        self.mtu = mtu
        self.mac = mac.lower()
        self.up = up
        self.addrs = addrs  # IPv4 "a.b.c.d/len"
        self.vxlan = vxlan or {}


class Route(object):
    """One IPv4 route of the main table."""

    def __init__(self, dst, gateway, dev, onlink, protocol):
        # type: (str, str, str, bool, str) -> None
        self.dst = dst
        self.gateway = gateway
        self.dev = dev
        self.onlink = onlink
        self.protocol = protocol


class Current(object):
    """The host as `ip`, `bridge`, `sysctl` and `iptables -S` show it."""

    def __init__(self):
        # type: () -> None
        self.links = {}  # type: Dict[str, Link]
        self.neigh = []  # type: List[Dict[str, Any]]  # {dst, dev, lladdr, permanent}
        self.fdb = []  # type: List[Dict[str, str]]  # {mac, dev, dst}
        self.routes = []  # type: List[Route]
        self.ip_forward = "1"
        self.rules = {}  # type: Dict[str, List[str]]  # "nat POSTROUTING" -> our rule specs


# The commands whose output is the current state (run through the executor's prefix).
STATE_COMMANDS = {
    "addr": ["ip", "-d", "-j", "addr", "show"],
    "neigh": ["ip", "-j", "neigh", "show"],
    "fdb": ["bridge", "-j", "fdb", "show"],
    "route": ["ip", "-j", "route", "show", "table", "main"],
    "ip_forward": ["sysctl", "-n", "net.ipv4.ip_forward"],
    "nat": ["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"],
    "forward": ["iptables", "-w", "-t", "filter", "-S", "FORWARD"],
}


def _json_list(text):
    # type: (str) -> List[Dict[str, Any]]
    text = (text or "").strip()
    if not text:
        return []
    value = json.loads(text)
    return value if isinstance(value, list) else []


def parse_links(text):
    # type: (str) -> Dict[str, Link]
    """`ip -d -j addr show` -> links by name."""
    links = {}  # type: Dict[str, Link]
    for raw in _json_list(text):
        info = raw.get("linkinfo") or {}
        data = info.get("info_data") or {}
        vxlan = None
        if info.get("info_kind") == "vxlan":
            vxlan = {
                "id": int(data.get("id", 0)),
                "local": str(data.get("local", "")),
                "port": int(data.get("port", 0)),
                "learning": bool(data.get("learning", False)),
            }
        addrs = [
            "%s/%d" % (a["local"], int(a["prefixlen"]))
            for a in raw.get("addr_info", [])
            if a.get("family") == "inet" and "local" in a
        ]
        name = str(raw.get("ifname", ""))
        links[name] = Link(
            name,
            str(info.get("info_kind", "")),
            int(raw.get("mtu", 0)),
            str(raw.get("address", "")),
            "UP" in (raw.get("flags") or []),
            addrs,
            vxlan,
        )
    return links


def parse_neigh(text):
    # type: (str) -> List[Dict[str, Any]]
    """`ip -j neigh show` -> IPv4 neighbour entries."""
    result = []
    for raw in _json_list(text):
        dst = str(raw.get("dst", ""))
        if ":" in dst or not dst:
            continue
        result.append(
            {
                "dst": dst,
                "dev": str(raw.get("dev", "")),
                "lladdr": str(raw.get("lladdr", "")).lower(),
                "permanent": "PERMANENT" in (raw.get("state") or []),
            }
        )
    return result


def parse_fdb(text):
    # type: (str) -> List[Dict[str, str]]
    """`bridge -j fdb show` -> entries with a remote dst (vxlan ones)."""
    result = []
    for raw in _json_list(text):
        if "dst" not in raw:
            continue
        result.append(
            {"mac": str(raw.get("mac", "")).lower(), "dev": str(raw.get("ifname", raw.get("dev", ""))), "dst": str(raw["dst"])}
        )
    return result


def parse_routes(text):
    # type: (str) -> List[Route]
    """`ip -j route show` -> routes ("default" kept as is)."""
    result = []
    for raw in _json_list(text):
        dst = str(raw.get("dst", ""))
        if dst != "default" and "/" not in dst:
            dst += "/32"
        result.append(
            Route(
                dst,
                str(raw.get("gateway", "")),
                str(raw.get("dev", "")),
                "onlink" in (raw.get("flags") or []),
                str(raw.get("protocol", "")),
            )
        )
    return result


def parse_rules(text, chain):
    # type: (str, str) -> List[str]
    """`iptables -S CHAIN` -> the specs of the rules we own (tagged with our comment)."""
    result = []
    head = "-A %s " % chain
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith(head) and IPT_COMMENT in line:
            result.append(line[len(head):])
    return result


def _with_sysctl_and_rules(cur, raw):
    # type: (Current, Dict[str, str]) -> Current
    """What both iproute2 forms share: ip_forward and the tagged iptables rules."""
    cur.ip_forward = (raw.get("ip_forward") or "").strip() or "0"
    cur.rules = {
        "nat POSTROUTING": parse_rules(raw.get("nat", ""), "POSTROUTING"),
        "filter FORWARD": parse_rules(raw.get("forward", ""), "FORWARD"),
    }
    return cur


def parse_current(raw):
    # type: (Dict[str, str]) -> Current
    """The outputs of STATE_COMMANDS -> Current."""
    cur = Current()
    cur.links = parse_links(raw.get("addr", ""))
    cur.neigh = parse_neigh(raw.get("neigh", ""))
    cur.fdb = parse_fdb(raw.get("fdb", ""))
    cur.routes = parse_routes(raw.get("route", ""))
    return _with_sysctl_and_rules(cur, raw)


# -- text forms (iproute2 without -j, e.g. CentOS 7's iproute 4.11) ----------------------

# The same facts from `ip -o`/plain output; parse_current_text reads these.
STATE_COMMANDS_TEXT = {
    "link": ["ip", "-d", "-o", "link", "show"],
    "addr": ["ip", "-o", "-4", "addr", "show"],
    "neigh": ["ip", "-4", "neigh", "show"],
    "fdb": ["bridge", "fdb", "show"],
    "route": ["ip", "route", "show", "table", "main"],
    "ip_forward": STATE_COMMANDS["ip_forward"],
    "nat": STATE_COMMANDS["nat"],
    "forward": STATE_COMMANDS["forward"],
}

_KINDS = ("vxlan", "bridge", "veth", "dummy", "bond", "vlan", "macvlan", "ipip", "tun", "geneve")


def _after(words, key, default=""):
    # type: (List[str], str, str) -> str
    """The word following key in words (ip's "key value" pairs)."""
    try:
        return words[words.index(key) + 1]
    except (ValueError, IndexError):
        return default


def parse_links_text(link_text, addr_text):
    # type: (str, str) -> Dict[str, Link]
    """`ip -d -o link show` + `ip -o -4 addr show` -> links by name."""
    links = {}  # type: Dict[str, Link]
    for line in link_text.splitlines():
        if ": " not in line:
            continue
        segments = [seg.split() for seg in line.split("\\")]
        head = segments[0]
        name = head[1].rstrip(":").split("@", 1)[0]
        flags = head[2].strip("<>").split(",") if len(head) > 2 else []
        mac = _after(segments[1], "link/ether") if len(segments) > 1 else ""
        kind = ""
        vxlan = None
        for seg in segments[2:]:
            if seg and seg[0] in _KINDS:
                kind = seg[0]
                if kind == "vxlan":
                    vxlan = {
                        "id": int(_after(seg, "id", "0")),
                        "local": _after(seg, "local"),
                        "port": int(_after(seg, "dstport", "0")),
                        "learning": "nolearning" not in seg,
                    }
                break
        links[name] = Link(name, kind, int(_after(head, "mtu", "0")), mac, "UP" in flags, [], vxlan)
    for line in addr_text.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] == "inet":
            name = words[1].split("@", 1)[0]
            if name in links:
                links[name].addrs.append(words[3])
    return links


def parse_neigh_text(text):
    # type: (str) -> List[Dict[str, Any]]
    """`ip -4 neigh show` lines -> neighbour entries."""
    result = []
    for line in text.splitlines():
        words = line.split()
        if not words or ":" in words[0]:
            continue
        result.append({
            "dst": words[0],
            "dev": _after(words, "dev"),
            "lladdr": _after(words, "lladdr").lower(),
            "permanent": "PERMANENT" in words,
        })
    return result


def parse_fdb_text(text):
    # type: (str) -> List[Dict[str, str]]
    """`bridge fdb show` lines -> entries with a remote dst."""
    result = []
    for line in text.splitlines():
        words = line.split()
        if "dst" in words:
            result.append({"mac": words[0].lower(), "dev": _after(words, "dev"), "dst": _after(words, "dst")})
    return result


def parse_routes_text(text):
    # type: (str) -> List[Route]
    """`ip route show` lines -> routes."""
    result = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] in ("broadcast", "local", "unreachable", "blackhole", "prohibit"):
            continue
        dst = words[0]
        if dst != "default" and "/" not in dst:
            dst += "/32"
        result.append(Route(dst, _after(words, "via"), _after(words, "dev"), "onlink" in words, _after(words, "proto")))
    return result


def parse_current_text(raw):
    # type: (Dict[str, str]) -> Current
    """The outputs of STATE_COMMANDS_TEXT -> Current (same result as parse_current)."""
    cur = Current()
    cur.links = parse_links_text(raw.get("link", ""), raw.get("addr", ""))
    cur.neigh = parse_neigh_text(raw.get("neigh", ""))
    cur.fdb = parse_fdb_text(raw.get("fdb", ""))
    cur.routes = parse_routes_text(raw.get("route", ""))
    return _with_sysctl_and_rules(cur, raw)


def parse_state(raw):
    # type: (Dict[str, str]) -> Current
    """Either form: the executor marks text output with the "link" key."""
    return parse_current_text(raw) if "link" in raw else parse_current(raw)
