"""The flannel contract on the operator side: the network config `kubeform up` writes to etcd.

Why a thin layer over kubeform.agent.flannel: the agent (stdlib, Python 3.6) and the
operator must agree byte for byte on keys and JSON, so the rendering lives once, in the
agent, and this module gives the operator typed entry points and checks the user's values
before anything reaches etcd.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from kubeform.agent import flannel as _flannel
from kubeform.agent import node as _node

DEFAULT_PREFIX = _flannel.DEFAULT_PREFIX
DEFAULT_NETWORK = _flannel.DEFAULT_NETWORK
BACKENDS = ("vxlan", "host-gw")


@dataclass(frozen=True)
class SubnetLease:
    """One host's subnet as `kubeform get nodes` and the reconciler see it."""

    subnet: str
    public_ip: str
    backend_type: str
    vtep_mac: str


def config_key(prefix: str = DEFAULT_PREFIX) -> str:
    """Where flanneld and the agent read the network config."""
    return prefix.rstrip("/") + "/config"


def subnets_prefix(prefix: str = DEFAULT_PREFIX) -> str:
    """The prefix under which every host's subnet lease lives."""
    return prefix.rstrip("/") + "/subnets/"


def render_network_config(
    network: str = DEFAULT_NETWORK,
    subnet_len: int = 24,
    backend: str = "vxlan",
    vni: int = 1,
    port: int = 8472,
) -> str:
    """The config JSON, checked as flanneld would check it (ValueError names the problem)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    try:
        ipaddress.IPv4Network(network)
    except ValueError as exc:
        raise ValueError(f"network {network!r} is not an IPv4 CIDR: {exc}") from None
    text = _flannel.render_config(network, subnet_len, backend, vni, port)
    try:
        _flannel.parse_config(text)
    except _flannel.FlannelError as exc:
        raise ValueError(str(exc)) from None
    return text


def parse_subnet_leases(kvs: dict[str, str]) -> list[SubnetLease]:
    """Leases from a {key: value} read of the subnets prefix; unreadable keys are skipped."""
    result = []
    for key, value in sorted(kvs.items()):
        lease = _flannel.parse_lease(key, value)
        if lease is not None:
            result.append(
                SubnetLease(str(lease.subnet), lease.public_ip, lease.backend_type, lease.vtep_mac)
            )
    return result


def node_keys(name: str) -> tuple[str, str]:
    """(Node object key, heartbeat key) of a node, as the agent writes them."""
    return _node.node_key(name), _node.heartbeat_key(name)


def parse_heartbeat(value: str) -> dict[str, Any]:
    """The heartbeat JSON (holderIdentity, renewTime, leaseDurationSeconds)."""
    data = json.loads(value)
    if not isinstance(data, dict):
        raise ValueError("heartbeat is not a JSON object")
    return data
