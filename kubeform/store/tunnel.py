"""Reaching etcd through an SSH tunnel when the operator cannot reach it directly.

``cluster.yml`` may name a master as ``ssh_tunnel`` (a host name, ``user@host[:port]``, or
a mapping of Ansible connection variables). The CLI then listens on a loopback port and
forwards each connection over the kubeform SSH transport (known_hosts verified) to the
etcd endpoint as seen from that master. TLS still runs end to end with the cluster CA,
and the certificate is checked against the endpoint's real address, not 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from typing import Any

from kubeform.errors import UserError

log = logging.getLogger(__name__)


def tunnel_host_vars(spec: str | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(name, Ansible-style vars) of the tunnel host from the cluster.yml value."""
    if isinstance(spec, dict):
        name = str(spec.get("name") or spec.get("ansible_host") or "tunnel")
        return name, {k: v for k, v in spec.items() if k != "name"}
    user, _, hostport = spec.rpartition("@")
    host, _, port = hostport.partition(":")
    vars_: dict[str, Any] = {"ansible_host": host}
    if user:
        vars_["ansible_user"] = user
    if port:
        vars_["ansible_port"] = int(port)
    return host, vars_


def _pump(a: Any, b: Any) -> None:
    """Copy bytes both ways until either side closes."""
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], 60)
            for src in ready:
                data = src.recv(65536)
                if not data:
                    return
                (b if src is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in (a, b):
            with contextlib.suppress(Exception):
                s.close()


class Tunnel:
    """A loopback listener forwarding to ``target`` through an SSH connection."""

    def __init__(self, spec: str | dict[str, Any], target_host: str, target_port: int) -> None:
        from kubeform.inventory.model import Host
        from kubeform.transport.ssh import SSHConnection

        name, vars_ = tunnel_host_vars(spec)
        self.conn = SSHConnection(Host(name, vars_))
        try:
            self.transport = self.conn._ensure_transport()
        except Exception as err:
            raise UserError(f"cannot open the ssh tunnel via {name}: {err}") from None
        self.target = (target_host, target_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True, name="kubeform-tunnel").start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            try:
                chan = self.transport.open_channel("direct-tcpip", self.target, ("127.0.0.1", 0))
            except Exception as err:  # the master cannot reach etcd: close, the client reports
                log.warning("ssh tunnel to %s:%s failed: %s", *self.target, err)
                sock.close()
                continue
            threading.Thread(target=_pump, args=(sock, chan), daemon=True).start()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()
        self.conn.close()
