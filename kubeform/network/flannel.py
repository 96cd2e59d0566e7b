"""The flannel contract on the operator side: the network config `kubeform up` writes to etcd.

Why a thin layer over kubeform.agent.flannel: the agent (stdlib, Python 3.6) and the
operator must agree byte for byte on keys and JSON, so the rendering lives once, in the
agent, and this module gives the operator typed entry points and checks the user's values
before anything reaches etcd.
"""

from __future__ import annotations

import ipaddress

from kubeform.agent import flannel as _flannel

DEFAULT_NETWORK = _flannel.DEFAULT_NETWORK
BACKENDS = ("vxlan", "host-gw")


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
