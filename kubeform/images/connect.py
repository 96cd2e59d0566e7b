"""Reaching the cluster registry from the operator's machine, as the store reaches etcd.

cluster.yml records ``registry: <first master address>:5000`` (written by `kubeform up`).
TLS is verified with the cluster CA; the environment's proxies and CA bundle are ignored
(the registry sits inside the cluster). When the address does not answer directly, the
same SSH tunnel as the store's (cluster.yml ``ssh_tunnel``, else ``ssh_tunnel_fallback``)
carries the connection and the certificate is still checked against the real address.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import Any

import requests
import requests.adapters

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError
from kubeform.images.registry import RegistryClient
from kubeform.store.client import tunnel_spec

#: cluster.yml key: host:port of the cluster registry ("" or absent: no registry).
REGISTRY_KEY = "registry"
REGISTRY_PORT = 5000


class PinnedHostAdapter(requests.adapters.HTTPAdapter):
    """Verify the server certificate against a fixed name (the tunnel's far end)."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(*args, **kwargs)


def registry_address(cd: ClusterDir) -> tuple[str, int]:
    """(host, port) of the cluster registry from cluster.yml; a clear error when there is none."""
    value = str(cd.extra.get(REGISTRY_KEY) or "")
    if not value:
        raise UserError(
            f"cluster {cd.name} has no image registry (no `{REGISTRY_KEY}` in cluster.yml)",
            hint="set cluster_registry: true in the inventory (the default) and re-run `kubeform up`",
        )
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        return value, REGISTRY_PORT
    return host.strip("[]"), int(port)


def _reachable_at(host: str, port: int) -> Any:
    def check(_urls: Sequence[str], timeout: float = 2.0) -> bool:
        try:
            socket.create_connection((host, port), timeout).close()
            return True
        except OSError:
            return False

    return check


@contextlib.contextmanager
def cluster_registry(cd: ClusterDir) -> Iterator[RegistryClient]:
    """A client of the cluster registry (tunnelled when needed), closed on exit."""
    host, port = registry_address(cd)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(cd.ca_cert)
    spec = tunnel_spec(cd, _reachable_at(host, port))
    tunnel = None
    base = f"https://{host}:{port}"
    if spec:
        from kubeform.store.tunnel import Tunnel

        tunnel = Tunnel(spec, host, port)
        session.mount("https://", PinnedHostAdapter(host))
        base = f"https://127.0.0.1:{tunnel.port}"
    try:
        yield RegistryClient(base, session, label=f"{host}:{port}")
    finally:
        session.close()
        if tunnel is not None:
            tunnel.close()
