"""A real etcd with TLS and client-certificate auth on loopback, for integration tests.

Tests run against the same etcd (Debian's /usr/bin/etcd, 3.4) that a cluster runs, never a
mock, so key layout, transactions and TLS are exercised as they are in production. Use::

    pytest_plugins = ["tests.etcd_server"]  # in the test module: one etcd per run

    @pytest.mark.integration
    def test_x(etcd_clean: EtcdServer) -> None:
        etcd_clean.cluster   # a ClusterDir with the CA and admin certificate
        etcd_clean.endpoint  # "https://127.0.0.1:PORT"

(Importing the fixtures by name into several modules also works, but then each module
gets its own etcd.) ``etcd_tls`` is session-scoped (one etcd for the run); ``etcd_clean`` deletes every key
before the test. ``start_etcd`` is the plain context manager for scripts (bench/).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubeform.bootstrap.clusterdir import ClusterDir

ETCD_BINARY = "/usr/bin/etcd"


@dataclass
class EtcdServer:
    """A running test etcd: where it listens and the certificates to talk to it."""

    endpoint: str
    port: int
    cluster: ClusterDir
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self):  # type: ignore[no-untyped-def]
        """An etcd3gw client with the admin certificate (for raw checks in tests)."""
        import etcd3gw
        import requests

        # Our own session: requests lets $REQUESTS_CA_BUNDLE override session.verify.
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.cluster.ca_cert)
        session.cert = (str(self.cluster.admin_cert), str(self.cluster.admin_key))
        return etcd3gw.client(
            host="127.0.0.1", port=self.port, protocol="https", timeout=10, session=session
        )

    def wipe(self) -> None:
        """Delete every key so a test starts from an empty store."""
        self.client().delete("\0", range_end="\0")


def _free_port() -> int:
    """A port nobody listens on right now (bound then released; fine on loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies, so no etcd outlives a killed run."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextlib.contextmanager
def start_etcd(workdir: Path | None = None, timeout: float = 30.0) -> Iterator[EtcdServer]:
    """Start etcd with client TLS + client-cert auth in a temp dir; stop it on exit."""
    if not Path(ETCD_BINARY).exists():
        pytest.skip(f"{ETCD_BINARY} not installed (apt install etcd-server)")
    own_tmp = workdir is None
    base = Path(tempfile.mkdtemp(prefix="kubeform-etcd-")) if workdir is None else workdir
    proc: subprocess.Popen[bytes] | None = None
    try:
        cluster = ClusterDir.create(base / "cluster", "test", ["https://127.0.0.1:0"])
        cluster.issue("etcd-test", ["127.0.0.1", "localhost"], client=True, server=True)
        cert_path, key_path = cluster.cert_paths("etcd-test")
        client_port, peer_port = _free_port(), _free_port()
        endpoint = f"https://127.0.0.1:{client_port}"
        cluster.endpoints = [endpoint]
        cluster.save()
        data_dir = base / "data"
        log_path = base / "etcd.log"
        args = [
            ETCD_BINARY,
            "--name", "test",
            "--data-dir", str(data_dir),
            "--listen-client-urls", endpoint,
            "--advertise-client-urls", endpoint,
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"test=http://127.0.0.1:{peer_port}",
            "--client-cert-auth",
            "--trusted-ca-file", str(cluster.ca_cert),
            "--cert-file", str(cert_path),
            "--key-file", str(key_path),
            "--quota-backend-bytes", str(2 * 1024**3),
            "--logger", "zap",
        ]
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
            )
        server = EtcdServer(endpoint, client_port, cluster, data_dir, proc, log_path)
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"etcd exited early: {log_path.read_text()[-2000:]}")
            try:
                server.client().status()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"etcd not healthy after {timeout}s: {log_path.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if own_tmp and not os.environ.get("KUBEFORM_KEEP_ETCD"):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def etcd_tls() -> Iterator[EtcdServer]:
    """One TLS etcd for the whole test session, killed at the end (also on failure)."""
    with start_etcd() as server:
        yield server


@pytest.fixture()
def etcd_clean(etcd_tls: EtcdServer) -> EtcdServer:
    """The session etcd, emptied before the test so tests do not see each other's keys."""
    etcd_tls.wipe()
    return etcd_tls
