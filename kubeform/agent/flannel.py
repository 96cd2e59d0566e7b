"""The flannel contract in etcd, as pure functions: config, subnet leases, subnet.env.

Why: kubeform's overlay must be byte-compatible with flannel so a real flanneld can join
the same network (and a kubeform agent can join a flannel network). The formats follow
flanneld's etcd subnet manager: the config at <prefix>/config, one key per host subnet at
<prefix>/subnets/10.244.N.0-24 holding the host's LeaseAttrs as compact JSON, bound to a
24 h etcd lease; the first subnet of the network is never handed out.
"""

import hashlib
import ipaddress
import json
import random
from typing import Any, Callable, Dict, List, Optional

DEFAULT_PREFIX = "/coreos.com/network"
DEFAULT_NETWORK = "10.244.0.0/16"
SUBNET_TTL = 24 * 3600
# Renew the subnet lease when less than this is left (flanneld's default margin: 1 h).
RENEW_MARGIN = 3600
VXLAN_OVERHEAD = 50


class FlannelError(Exception):
    """The network config in etcd is unusable, or the network is full."""


class NetworkConfig(object):
    """The parsed and checked flannel network config (what flanneld derives too)."""

    def __init__(self, network, subnet_len, subnet_min, subnet_max, backend):
        # type: (ipaddress.IPv4Network, int, ipaddress.IPv4Address, ipaddress.IPv4Address, Dict[str, Any]) -> None
        self.network = network
        self.subnet_len = subnet_len
        self.subnet_min = subnet_min
        self.subnet_max = subnet_max
        self.backend = backend

    @property
    def backend_type(self):
        # type: () -> str
        return str(self.backend.get("Type", "udp"))

    @property
    def vni(self):
        # type: () -> int
        return int(self.backend.get("VNI", 1))

    @property
    def port(self):
        # type: () -> int
        """The vxlan UDP port; 0 means the kernel default, flannel's convention is 8472."""
        return int(self.backend.get("Port", 0)) or 8472

    def contains(self, subnet):
        # type: (ipaddress.IPv4Network) -> bool
        """Whether subnet fits this config (flannel reuses an old lease only if so)."""
        return (
            subnet.prefixlen == self.subnet_len
            and self.subnet_min <= subnet.network_address <= self.subnet_max
        )


def render_config(network=DEFAULT_NETWORK, subnet_len=24, backend="vxlan", vni=1, port=8472):
    # type: (str, int, str, int, int) -> str
    """The JSON the operator writes at <prefix>/config (flannel's documented keys)."""
    if backend == "vxlan":
        be = {"Type": "vxlan", "VNI": vni, "Port": port}  # type: Dict[str, Any]
    elif backend == "host-gw":
        be = {"Type": "host-gw"}
    else:
        raise FlannelError("unsupported backend %r (vxlan or host-gw)" % backend)
    return json.dumps({"Network": network, "SubnetLen": subnet_len, "Backend": be})


def parse_config(text):
    # type: (str) -> NetworkConfig
    """Check the config like flanneld does (defaults, sizes, alignment)."""
    try:
        raw = json.loads(text)
        network = ipaddress.IPv4Network(raw["Network"])
    except (ValueError, KeyError, TypeError) as exc:
        raise FlannelError("bad flannel config: %s" % exc) from None
    if not isinstance(raw, dict):
        raise FlannelError("bad flannel config: not an object")
    subnet_len = int(raw.get("SubnetLen", 0) or 0)
    if subnet_len == 0:
        if network.prefixlen > 28:
            raise FlannelError("Network %s too small (minimum /28)" % network)
        subnet_len = 24 if network.prefixlen <= 22 else network.prefixlen + 2
    if subnet_len > 30:
        raise FlannelError("SubnetLen must be at most 30")
    if subnet_len < network.prefixlen + 2:
        raise FlannelError("Network %s must hold at least four /%d subnets" % (network, subnet_len))
    size = 1 << (32 - subnet_len)
    net_ip = int(network.network_address)
    subnet_min = ipaddress.IPv4Address(raw["SubnetMin"]) if raw.get("SubnetMin") else ipaddress.IPv4Address(net_ip + size)
    subnet_max = (
        ipaddress.IPv4Address(raw["SubnetMax"])
        if raw.get("SubnetMax")
        else ipaddress.IPv4Address(int(network.broadcast_address) + 1 - size)
    )
    for name, value in (("SubnetMin", subnet_min), ("SubnetMax", subnet_max)):
        if value not in network:
            raise FlannelError("%s %s is not in Network %s" % (name, value, network))
        if int(value) % size:
            raise FlannelError("%s %s is not on a /%d boundary" % (name, value, subnet_len))
    backend = raw.get("Backend") or {"Type": "udp"}
    if not isinstance(backend, dict):
        raise FlannelError("bad flannel config: Backend must be an object")
    return NetworkConfig(network, subnet_len, subnet_min, subnet_max, backend)


# -- subnet keys ------------------------------------------------------------------------


def subnet_key(subnet, prefix=DEFAULT_PREFIX):
    # type: (ipaddress.IPv4Network, str) -> str
    """10.244.3.0/24 -> <prefix>/subnets/10.244.3.0-24 (flannel's MakeSubnetKey)."""
    return "%s/subnets/%s-%d" % (prefix, subnet.network_address, subnet.prefixlen)


def parse_subnet_key(key):
    # type: (str) -> Optional[ipaddress.IPv4Network]
    """The subnet a lease key names, or None if it is not a subnet key."""
    name = key.rsplit("/", 1)[-1]
    if "-" not in name:
        return None
    addr, _, plen = name.partition("-")
    try:
        return ipaddress.IPv4Network("%s/%s" % (addr, plen))
    except ValueError:
        return None


class Lease(object):
    """One host's subnet lease as read from etcd (the value is flannel's LeaseAttrs)."""

    def __init__(self, subnet, public_ip, backend_type, backend_data, lease_id=0, mod_revision=0, raw=""):
        # type: (ipaddress.IPv4Network, str, str, Dict[str, Any], int, int, str) -> None
        self.subnet = subnet
        self.public_ip = public_ip
        self.backend_type = backend_type
        self.backend_data = backend_data
        self.lease_id = lease_id
        self.mod_revision = mod_revision
        self.raw = raw

    @property
    def vtep_mac(self):
        # type: () -> str
        return str(self.backend_data.get("VtepMAC", "")).lower()

    def __repr__(self):
        # type: () -> str
        return "Lease(%s, %s)" % (self.subnet, self.public_ip)


def parse_lease(key, value, lease_id=0, mod_revision=0):
    # type: (str, str, int, int) -> Optional[Lease]
    """A Lease from an etcd key/value; None for keys that are not valid leases (skipped)."""
    subnet = parse_subnet_key(key)
    if subnet is None:
        return None
    try:
        attrs = json.loads(value)
        public_ip = str(ipaddress.IPv4Address(attrs["PublicIP"]))
    except (ValueError, KeyError, TypeError):
        return None
    data = attrs.get("BackendData") or {}
    if not isinstance(data, dict):
        data = {}
    return Lease(subnet, public_ip, str(attrs.get("BackendType", "")), data, lease_id, mod_revision, value)


def render_lease(public_ip, backend_type, vni=1, vtep_mac=""):
    # type: (str, str, int, str) -> str
    """The LeaseAttrs JSON exactly as flanneld marshals it (Go encoding/json: compact, field order)."""
    attrs = [("PublicIP", public_ip), ("PublicIPv6", None), ("BackendType", backend_type)]  # type: List[Any]
    if backend_type == "vxlan":
        attrs.append(("BackendData", _ordered([("VNI", vni), ("VtepMAC", vtep_mac)])))
    return _compact(_ordered(attrs))


def _ordered(pairs):
    # type: (List[Any]) -> Dict[str, Any]
    result = {}  # type: Dict[str, Any]
    for k, v in pairs:  # dicts keep insertion order on CPython 3.6 and the language from 3.7
        result[k] = v
    return result


def _compact(obj):
    # type: (Any) -> str
    return json.dumps(obj, separators=(",", ":"))


def vtep_mac_for(public_ip):
    # type: (str) -> str
    """A stable, locally administered unicast MAC for flannel.1 derived from the host's IP.

    Why: the VtepMAC is published in the lease before the device exists; deriving it makes
    it survive agent restarts and reboots, so peers never hold a stale MAC.
    """
    digest = bytearray(hashlib.sha256(("kubeform-vtep:" + public_ip).encode("ascii")).digest()[:6])
    digest[0] = (digest[0] & 0xFC) | 0x02
    return ":".join("%02x" % b for b in digest)


# -- choosing a subnet ------------------------------------------------------------------


class Decision(object):
    """What to do about my subnet: reuse an existing lease, or create a new one."""

    def __init__(self, action, subnet, lease=None, stale=None):
        # type: (str, ipaddress.IPv4Network, Optional[Lease], Optional[List[Lease]]) -> None
        self.action = action  # "reuse" | "create"
        self.subnet = subnet
        self.lease = lease
        self.stale = stale or []  # my old leases that no longer fit the config: delete

    def __repr__(self):
        # type: () -> str
        return "Decision(%s, %s)" % (self.action, self.subnet)


def choose_subnet(config, leases, public_ip, pick=None):
    # type: (NetworkConfig, List[Lease], str, Optional[Callable[[int], int]]) -> Decision
    """Reuse the lease holding my PublicIP if it still fits, else pick a free subnet.

    Like flanneld: among the first 100 free subnets one is chosen at random (pick(n) gives
    an index below n), which keeps hosts that start together from racing for the same key.
    """
    stale = []  # type: List[Lease]
    for lease in sorted(leases, key=lambda x: int(x.subnet.network_address)):
        if lease.public_ip == public_ip:
            if config.contains(lease.subnet):
                return Decision("reuse", lease.subnet, lease, stale)
            stale.append(lease)
    taken = [x.subnet for x in leases if x not in stale]
    size = 1 << (32 - config.subnet_len)
    free = []  # type: List[ipaddress.IPv4Network]
    addr = int(config.subnet_min)
    while addr <= int(config.subnet_max) and len(free) < 100:
        candidate = ipaddress.IPv4Network("%s/%d" % (ipaddress.IPv4Address(addr), config.subnet_len))
        if not any(candidate.overlaps(t) for t in taken):
            free.append(candidate)
        addr += size
    if not free:
        raise FlannelError("out of subnets in %s" % config.network)
    index = (pick or (lambda n: random.randrange(n)))(len(free))
    return Decision("create", free[index], None, stale)


# -- subnet.env -------------------------------------------------------------------------


def render_subnet_env(config, subnet, mtu, ipmasq=True):
    # type: (NetworkConfig, ipaddress.IPv4Network, int, bool) -> str
    """/run/flannel/subnet.env as flanneld writes it (FLANNEL_SUBNET = first address)."""
    first = ipaddress.IPv4Address(int(subnet.network_address) + 1)
    return (
        "FLANNEL_NETWORK=%s\n"
        "FLANNEL_SUBNET=%s/%d\n"
        "FLANNEL_MTU=%d\n"
        "FLANNEL_IPMASQ=%s\n" % (config.network, first, subnet.prefixlen, mtu, "true" if ipmasq else "false")
    )


def overlay_mtu(config, external_mtu):
    # type: (NetworkConfig, int) -> int
    """The pod MTU: vxlan takes 50 bytes of the external MTU, host-gw none."""
    if config.backend_type == "vxlan":
        return external_mtu - VXLAN_OVERHEAD
    return external_mtu
