"""LocalConnection: the SSH contract on this machine (kubeform.transport.local)."""

from __future__ import annotations

import concurrent.futures
import os
import stat
from pathlib import Path

import pytest

from kubeform.inventory.model import Host
from kubeform.transport.base import TransportError
from kubeform.transport.errors import CommandTimeout
from kubeform.transport.local import LocalConnection
from kubeform.transport.pool import ConnectionPool
from kubeform.transport.ssh import RetryPolicy, SSHConnection, describe_socket_error


@pytest.fixture
def conn() -> LocalConnection:
    return LocalConnection(Host("local", {"ansible_connection": "local"}))


def test_run_reports_streams_and_rc(conn: LocalConnection) -> None:
    result = conn.run("echo out; echo err >&2; exit 4")
    assert (result.rc, result.stdout, result.stderr) == (4, "out\n", "err\n")
    assert not result.ok


def test_run_feeds_stdin(conn: LocalConnection) -> None:
    assert conn.run("tr a-z A-Z", stdin=b"hello").stdout == "HELLO"


def test_run_without_stdin_sees_eof(conn: LocalConnection) -> None:
    assert conn.run("cat").stdout == ""


def test_run_timeout(conn: LocalConnection) -> None:
    with pytest.raises(CommandTimeout):
        conn.run("sleep 5", timeout=0.2)


def test_become_self_runs_without_sudo(conn: LocalConnection) -> None:
    result = conn.run("id -un", become=True, become_user=conn.login_user)
    assert result.stdout.strip() == conn.login_user


def test_put_replaces_atomically_with_mode(conn: LocalConnection, tmp_path: Path) -> None:
    target = tmp_path / "f"
    conn.put(b"one", str(target), mode=0o600)
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    inode = target.stat().st_ino
    conn.put(b"two", str(target))
    assert target.read_bytes() == b"two"
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # mode kept when not given
    assert os.listdir(tmp_path) == ["f"]


def test_put_into_missing_directory_fails(conn: LocalConnection, tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="cannot write"):
        conn.put(b"x", str(tmp_path / "nope" / "f"))


def test_parallel_runs(conn: LocalConnection) -> None:
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outs = list(pool.map(lambda i: conn.run(f"echo {i}").stdout, range(20)))
    assert outs == [f"{i}\n" for i in range(20)]


def test_pool_caches_and_drops() -> None:
    host = Host("l", {"ansible_connection": "local"})
    with ConnectionPool() as pool:
        first = pool.get(host)
        assert isinstance(first, LocalConnection)
        assert pool.get(host) is first
        pool.drop(host)
        assert pool.get(host) is not first


def test_pool_keeps_one_connection_per_host_and_user() -> None:
    """A play's remote_user logs in anew; the earlier play's session stays for its user."""
    local = {"ansible_connection": "local"}
    with ConnectionPool() as pool:
        default = pool.get(Host("h", dict(local)))
        other = pool.get(Host("h", {**local, "ansible_user": "deploy"}))
        assert other is not default
        assert pool.get(Host("h", {**local, "ansible_user": "deploy"})) is other
        assert pool.get(Host("h", dict(local))) is default


def test_pool_makes_ssh_connections_lazily_per_host() -> None:
    pool = ConnectionPool(known_hosts="/nonexistent", retries=1)
    conn = pool._make(Host("h", {"ansible_host": "127.0.0.9"}))
    assert isinstance(conn, SSHConnection)
    assert conn.known_hosts == "/nonexistent"
    assert conn.retry.tries == 1


@pytest.mark.parametrize(
    ("policy", "delays"),
    [
        (RetryPolicy(), [0.5, 1.0]),
        (RetryPolicy(tries=1), []),
        (RetryPolicy(tries=4, delay=0.1, factor=3), [0.1, 0.1 * 3, 0.1 * 9]),
    ],
)
def test_retry_delays(policy: RetryPolicy, delays: list[float]) -> None:
    assert policy.delays() == pytest.approx(delays)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (TimeoutError(), "timed out"),
        (ConnectionRefusedError(111, "x"), "connection refused"),
        (EOFError(), "EOFError"),
    ],
)
def test_describe_socket_error(exc: BaseException, reason: str) -> None:
    assert describe_socket_error(exc) == reason
