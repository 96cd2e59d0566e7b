"""A real OpenSSH server on loopback addresses, for integration tests and benchmarks.

Why a real sshd rather than a paramiko test server: the transport must work against
the server it will meet on real hosts (exec, SFTP with posix-rename, MaxSessions,
host-key negotiation). One sshd listens on several 127.0.0.X addresses so an inventory
of N distinct hosts can be written without containers or VMs.

Two entry points:

* ``start_sshd(workdir)`` — a plain function returning a running ``SSHDServer``; call
  ``.stop()`` (or use it as a context manager). bench/ scripts use this outside pytest.
* the ``sshd_hosts`` session fixture in tests/integration/conftest.py wraps it.

Every session logged in through this server runs as the current user (root in CI) on
this machine: tests must only touch paths under a tmp dir they pass to the playbook.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

SSHD = "/usr/sbin/sshd"
DEFAULT_ADDRESSES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")
UNREACHABLE_ADDRESS = "127.0.0.9"


def write_ed25519_key(path: Path) -> str:
    """Write an unencrypted OpenSSH ed25519 private key; return the public key line.

    Generated with cryptography so the helper needs no ssh-keygen and no prompts.
    """
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    path.write_bytes(private)
    path.chmod(0o600)
    line = public.decode() + "\n"
    Path(str(path) + ".pub").write_text(line)
    return line.strip()


def free_port(addresses: Iterable[str]) -> int:
    """A TCP port that is free on every given address (so one port serves all hosts)."""
    addresses = list(addresses)
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = int(probe.getsockname()[1])
        if all(_port_free(addr, port) for addr in addresses):
            return port
    raise RuntimeError("no free port found on " + ", ".join(addresses))


def _port_free(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


def _sshd_config(workdir: Path, addresses: Iterable[str], port: int) -> str:
    listen = "".join(f"ListenAddress {addr}:{port}\n" for addr in addresses)
    return (
        f"{listen}"
        f"HostKey {workdir / 'ssh_host_ed25519_key'}\n"
        f"PidFile {workdir / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {workdir / 'authorized_keys'}\n"
        "StrictModes no\n"
        "PermitRootLogin prohibit-password\n"
        "UsePAM no\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UseDNS no\n"
        "PrintMotd no\n"
        "PrintLastLog no\n"
        # Keep OpenSSH's default MaxSessions (10): the transport must cope with it.
        "MaxStartups 100:30:200\n"
        "LogLevel INFO\n"
        "Subsystem sftp internal-sftp\n"
        "SetEnv SHLVL=1\n"
    )


@dataclass
class SSHDServer:
    """A running sshd and everything a client needs to log in to it."""

    workdir: Path
    addresses: list[str]
    port: int
    client_key: Path
    known_hosts: Path
    host_public_key: str
    user: str
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(default_factory=Path)
    unreachable: str = UNREACHABLE_ADDRESS

    def host_vars(self, address: str, **extra: Any) -> dict[str, Any]:
        """Inventory variables to log in to ``address`` (Ansible names + kubeform's)."""
        return {
            "ansible_host": address,
            "ansible_port": self.port,
            "ansible_user": self.user,
            "ansible_ssh_private_key_file": str(self.client_key),
            "kubeform_known_hosts_file": str(self.known_hosts),
            **extra,
        }

    def inventory_data(
        self,
        n: int | None = None,
        *,
        root: str | Path | None = None,
        extra_vars: Mapping[str, Any] | None = None,
        groups: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, Any]:
        """An Ansible-style YAML inventory dict for hosts h1..hN on distinct addresses.

        ``root``: when given, every host gets ``root: <root>/<name>`` (created here), a
        private directory the playbook should confine its writes to.
        ``groups``: optional group name -> host names, placed under ``all.children``.
        """
        count = len(self.addresses) if n is None else n
        if count > len(self.addresses):
            raise ValueError(f"only {len(self.addresses)} addresses; start_sshd(count=...)")
        hosts: dict[str, Any] = {}
        for i in range(count):
            name = f"h{i + 1}"
            extra: dict[str, Any] = dict(extra_vars or {})
            if root is not None:
                host_root = Path(root) / name
                host_root.mkdir(parents=True, exist_ok=True)
                extra["root"] = str(host_root)
            hosts[name] = self.host_vars(self.addresses[i], **extra)
        data: dict[str, Any] = {"all": {"hosts": hosts}}
        if groups:
            data["all"]["children"] = {
                group: {"hosts": {h: None for h in members}} for group, members in groups.items()
            }
        return data

    def write_inventory(
        self,
        path: str | Path,
        n: int | None = None,
        *,
        root: str | Path | None = None,
        extra_vars: Mapping[str, Any] | None = None,
        groups: Mapping[str, Iterable[str]] | None = None,
    ) -> Path:
        """Write ``inventory_data(...)`` as YAML to ``path`` and return the path."""
        path = Path(path)
        data = self.inventory_data(n, root=root, extra_vars=extra_vars, groups=groups)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    def stop(self) -> None:
        """Stop sshd and the per-connection children it forked (by pid, not by name)."""
        proc = self.process
        if proc is None:
            return
        self.process = None
        for child in _children_of(proc.pid):
            _kill(child)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def __enter__(self) -> SSHDServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _children_of(pid: int) -> list[int]:
    children: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The ppid is the 2nd field after the ")" that closes the command name.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            children.append(int(entry.name))
    return children


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _wait_ready(server: SSHDServer, timeout: float) -> None:
    """Wait until every address answers with an SSH banner (sshd is really serving)."""
    deadline = time.monotonic() + timeout
    pending = list(server.addresses)
    while pending:
        proc = server.process
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"sshd exited with {proc.returncode}:\n{server.log.read_text()}")
        addr = pending[0]
        try:
            with socket.create_connection((addr, server.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    pending.pop(0)
                    continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"sshd not ready on {addr}:{server.port}:\n{server.log.read_text()}")
        time.sleep(0.05)


def start_sshd(
    workdir: str | Path,
    *,
    count: int = len(DEFAULT_ADDRESSES),
    addresses: Iterable[str] | None = None,
    port: int | None = None,
    ready_timeout: float = 15,
) -> SSHDServer:
    """Start ``/usr/sbin/sshd -D -e`` on loopback addresses; return it once it serves.

    ``count`` hosts on 127.0.0.2, .3, ... unless ``addresses`` is given. Keys (host and
    client, ed25519), authorized_keys, known_hosts and sshd_config go into ``workdir``.
    """
    if not os.path.exists(SSHD):
        raise RuntimeError(f"{SSHD} not found (apt-get install openssh-server)")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    addrs = list(addresses) if addresses is not None else [f"127.0.0.{i + 2}" for i in range(count)]
    port = port or free_port(addrs)

    host_pub = write_ed25519_key(workdir / "ssh_host_ed25519_key")
    client_pub = write_ed25519_key(workdir / "client_ed25519")
    (workdir / "authorized_keys").write_text(client_pub + "\n")
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text("".join(f"[{addr}]:{port} {host_pub}\n" for addr in addrs))
    config = workdir / "sshd_config"
    config.write_text(_sshd_config(workdir, addrs, port))

    # Privilege separation directory; sshd refuses to start without it.
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)

    log = workdir / "sshd.log"
    server = SSHDServer(
        workdir=workdir,
        addresses=addrs,
        port=port,
        client_key=workdir / "client_ed25519",
        known_hosts=known_hosts,
        host_public_key=host_pub,
        user=getpass.getuser(),
        log=log,
    )
    with log.open("wb") as log_fh:
        server.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(server, ready_timeout)
    except BaseException:
        server.stop()
        raise
    return server


def main() -> None:
    """Run a server in the foreground for manual poking: ``python -m tests.sshd_server DIR``."""
    import sys

    workdir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kf-sshd")
    if workdir.exists():
        shutil.rmtree(workdir)
    with start_sshd(workdir) as server:
        print(f"sshd on {', '.join(server.addresses)} port {server.port}")
        print(
            f"ssh -i {server.client_key} -o UserKnownHostsFile={server.known_hosts} "
            f"-p {server.port} {server.user}@{server.addresses[0]}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
