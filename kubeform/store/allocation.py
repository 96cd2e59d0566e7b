"""ClusterIP and NodePort allocation: pick a free value, pure.

The store reserves the picked value with a create-only key in the same etcd transaction
as the Service, so two concurrent applies can never hand out the same address: the loser's
transaction fails its compare and it picks again. Starting the scan at a hash of the
service's name spreads concurrent writers apart and keeps a re-created service's address
stable when it is still free.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Container

from kubeform.errors import UserError

DEFAULT_SERVICE_CIDR = "10.96.0.0/12"
NODE_PORT_RANGE = (30000, 32767)
IP_KEY_PREFIX = "/registry/ranges/serviceips/"
PORT_KEY_PREFIX = "/registry/ranges/servicenodeports/"


def _hint(seed: str, size: int) -> int:
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") % size


def kubernetes_service_ip(cidr: str = DEFAULT_SERVICE_CIDR) -> str:
    """The first address (.1), reserved for the `kubernetes` service as in Kubernetes."""
    return str(ipaddress.ip_network(cidr)[1])


def cluster_dns_ip(cidr: str = DEFAULT_SERVICE_CIDR) -> str:
    """The tenth address (.10), the `kube-dns` Service's as kubeadm and kubespray give it."""
    return str(ipaddress.ip_network(cidr)[10])


def allocate_ip(cidr: str, used: Container[str], seed: str) -> str:
    """A free ClusterIP in ``cidr`` (network, .1 and broadcast never handed out)."""
    net = ipaddress.ip_network(cidr)
    first = 2
    size = net.num_addresses - first - 1  # skip network, .1, broadcast
    if size <= 0:
        raise UserError(f"service CIDR {cidr} is too small")
    start = _hint(seed, size)
    for i in range(size):
        ip = str(net[first + (start + i) % size])
        if ip not in used:
            return ip
    raise UserError(f"no free ClusterIP left in {cidr}")


def check_ip(cidr: str, ip: str) -> None:
    """A ClusterIP the user asked for must be inside the range and not reserved."""
    net = ipaddress.ip_network(cidr)
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise UserError(f"{ip!r} is not an IP address", field="spec.clusterIP") from None
    if addr not in net or addr in (net.network_address, net.broadcast_address):
        raise UserError(f"{ip} is not in the service range {cidr}", field="spec.clusterIP")


def allocate_port(used: Container[int], seed: str, port_range: tuple[int, int] = NODE_PORT_RANGE) -> int:
    """A free NodePort in the range (30000-32767 by default)."""
    lo, hi = port_range
    size = hi - lo + 1
    start = _hint(seed, size)
    for i in range(size):
        port = lo + (start + i) % size
        if port not in used:
            return port
    raise UserError(f"no free NodePort left in {lo}-{hi}")


def ip_key(ip: str) -> str:
    return IP_KEY_PREFIX + ip


def port_key(port: int) -> str:
    return PORT_KEY_PREFIX + str(port)
