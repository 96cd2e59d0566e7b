"""SSHConnection and ConnectionPool against a real sshd on loopback (tests/sshd_server.py).

Every command here runs as the test's own user on this machine: files only under
tmp_path.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from kubeform.inventory.model import Host
from kubeform.transport.base import HostKeyRejected, TransportError, Unreachable
from kubeform.transport.errors import AuthenticationFailed, CommandTimeout
from kubeform.transport.pool import ConnectionPool
from kubeform.transport.ssh import RetryPolicy, SSHConnection
from tests.sshd_server import SSHDServer, write_ed25519_key

pytestmark = pytest.mark.integration


def host(server: SSHDServer, index: int = 0, **extra: Any) -> Host:
    return Host(f"h{index + 1}", server.host_vars(server.addresses[index], **extra))


@pytest.fixture
def conn(sshd_hosts: SSHDServer) -> Any:
    connection = SSHConnection(host(sshd_hosts))
    try:
        yield connection
    finally:
        connection.close()


def test_run_reports_streams_and_rc(conn: SSHConnection) -> None:
    result = conn.run("echo out; echo err >&2; exit 3")
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_run_quotes_and_uses_sh(conn: SSHConnection) -> None:
    result = conn.run("printf '%s|' \"$0\" 'a b' \"it's\"")
    assert result.stdout == "/bin/sh|a b|it's|"


def test_run_feeds_stdin_and_eof(conn: SSHConnection) -> None:
    assert conn.run("tr a-z A-Z", stdin=b"hello").stdout == "HELLO"
    assert conn.run("cat").stdout == ""  # no stdin: EOF at once, no hang


def test_large_stdin_and_output_do_not_deadlock(conn: SSHConnection) -> None:
    data = os.urandom(3_000_000)
    assert conn.run("wc -c", stdin=data).stdout.strip() == str(len(data))
    result = conn.run("head -c 3000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero >&2")
    assert (len(result.stdout), len(result.stderr)) == (3_000_000, 3_000_000)
    assert len(conn.run("cat", stdin=data * 2).stdout.encode("utf-8", "replace")) > 0


def test_timeout_keeps_connection_usable(conn: SSHConnection) -> None:
    with pytest.raises(CommandTimeout):
        conn.run("sleep 10", timeout=0.3)
    assert conn.run("echo still").stdout == "still\n"


def test_twenty_parallel_runs_share_one_connection(conn: SSHConnection) -> None:
    conn.connect()
    client = conn._client
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda i: conn.run(f"sleep 0.2; echo {i}"), range(20)))
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(20)]
    assert all(r.ok for r in results)
    assert conn._client is client  # no reconnects


def test_put_atomic_replace_and_mode(conn: SSHConnection, tmp_path: Path) -> None:
    target = tmp_path / "conf" / "f.txt"
    target.parent.mkdir()
    conn.put(b"one\n", str(target), mode=0o640)
    assert target.read_bytes() == b"one\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    inode = target.stat().st_ino
    conn.put(b"two\n", str(target))
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_ino != inode  # renamed into place
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # kept when mode not given
    conn.put(b"new", str(target.parent / "g"))
    assert stat.S_IMODE((target.parent / "g").stat().st_mode) == 0o644
    assert sorted(os.listdir(target.parent)) == ["f.txt", "g"]  # no temp files left


def test_put_into_missing_directory_fails(conn: SSHConnection, tmp_path: Path) -> None:
    with pytest.raises(TransportError, match="cannot write"):
        conn.put(b"x", str(tmp_path / "nope" / "f"))
    assert conn.run("true").ok


@pytest.fixture
def world_dir() -> Any:
    """A directory another user can reach (pytest's tmp_path is 0700 under root)."""
    path = Path(tempfile.mkdtemp(prefix="kf-become-"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path)


@pytest.mark.skipif(shutil.which("sudo") is None, reason="sudo not installed")
def test_become_other_user_via_sudo(sshd_hosts: SSHDServer, world_dir: Path) -> None:
    if sshd_hosts.user != "root":
        pytest.skip("needs a root login to sudo without a password")
    # A become password is set but sudo does not need it: the probe keeps it out of stdin.
    h = host(sshd_hosts, ansible_become_user="nobody", ansible_become_password="unused")
    c = SSHConnection(h)
    try:
        assert c.run("id -un", become=True, become_user="nobody").stdout == "nobody\n"
        assert c.run("id -un", become=True).stdout == "root\n"  # root -> root: no sudo
        assert c.run("cat", become=True, become_user="nobody", stdin=b"in").stdout == "in"
        target = world_dir / "f"
        c.put(b"via sudo", str(target), mode=0o600, become=True)
        assert target.read_bytes() == b"via sudo"
        assert target.stat().st_uid == 65534
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        assert os.listdir(world_dir) == ["f"]
        with pytest.raises(TransportError, match="cannot write"):
            c.put(b"x", str(world_dir / "missing" / "f"), become=True)
    finally:
        c.close()


def test_unknown_host_key_refused_with_hint(sshd_hosts: SSHDServer, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    c = SSHConnection(host(sshd_hosts, kubeform_known_hosts_file=str(known)))
    with pytest.raises(HostKeyRejected, match="--trust-new-hosts") as info:
        c.run("true")
    assert f"[{sshd_hosts.addresses[0]}]:{sshd_hosts.port}" in str(info.value)
    assert not known.exists()


def test_trust_new_hosts_records_then_plain_connect_passes(
    sshd_hosts: SSHDServer, tmp_path: Path
) -> None:
    known = tmp_path / "ssh" / "known_hosts"
    h = host(sshd_hosts, kubeform_known_hosts_file=str(known))
    with ConnectionPool(trust_new_hosts=True) as pool:
        assert pool.get(h).run("echo ok").stdout == "ok\n"
    line = f"[{sshd_hosts.addresses[0]}]:{sshd_hosts.port} {sshd_hosts.host_public_key}"
    assert known.read_text().splitlines() == [line]
    with ConnectionPool(trust_new_hosts=False) as pool:
        assert pool.get(h).run("echo again").stdout == "again\n"


def test_pool_known_hosts_used_when_host_has_none(sshd_hosts: SSHDServer) -> None:
    vars_ = sshd_hosts.host_vars(sshd_hosts.addresses[1])
    del vars_["kubeform_known_hosts_file"]
    with ConnectionPool(known_hosts=str(sshd_hosts.known_hosts)) as pool:
        assert pool.get(Host("h2", vars_)).run("true").ok


def test_changed_host_key_refused(sshd_hosts: SSHDServer, tmp_path: Path) -> None:
    other = write_ed25519_key(tmp_path / "other_key")
    name = f"[{sshd_hosts.addresses[0]}]:{sshd_hosts.port}"
    known = tmp_path / "known_hosts"
    known.write_text(f"{name} {other}\n")
    c = SSHConnection(host(sshd_hosts, kubeform_known_hosts_file=str(known)), trust_new_hosts=True)
    with pytest.raises(HostKeyRejected, match="HAS CHANGED") as info:
        c.connect()
    message = str(info.value)
    assert message.count("SHA256:") == 2
    assert known.read_text() == f"{name} {other}\n"  # never overwritten


def test_unreachable_after_retries_with_backoff(sshd_hosts: SSHDServer) -> None:
    pauses: list[float] = []
    h = Host("down", sshd_hosts.host_vars(sshd_hosts.unreachable))
    c = SSHConnection(h, retry=RetryPolicy(tries=3, delay=0.5), sleep=pauses.append)
    with pytest.raises(Unreachable, match=r"connection refused \(after 3 attempts\)"):
        c.run("true")
    assert pauses == [0.5, 1.0]


def test_auth_failure_is_not_retried(sshd_hosts: SSHDServer, tmp_path: Path) -> None:
    write_ed25519_key(tmp_path / "stranger")
    pauses: list[float] = []
    h = host(sshd_hosts, ansible_ssh_private_key_file=str(tmp_path / "stranger"))
    with pytest.raises(AuthenticationFailed, match="authentication failed"):
        SSHConnection(h, sleep=pauses.append).connect()
    assert pauses == []


def test_missing_key_file_is_not_retried(sshd_hosts: SSHDServer, tmp_path: Path) -> None:
    h = host(sshd_hosts, ansible_ssh_private_key_file=str(tmp_path / "nope"))
    with pytest.raises(AuthenticationFailed, match="not found"):
        SSHConnection(h, sleep=lambda _: None).connect()


def test_run_reconnects_when_connection_died(conn: SSHConnection) -> None:
    conn.connect()
    assert conn._client is not None
    transport = conn._client.get_transport()
    assert transport is not None
    transport.close()  # as if the host had rebooted
    assert conn.run("echo back").stdout == "back\n"


def test_pool_reconnect(sshd_hosts: SSHDServer) -> None:
    h = host(sshd_hosts, 2)
    with ConnectionPool() as pool:
        first = pool.get(h)
        assert first.run("true").ok
        second = pool.reconnect(h, timeout=10)
        assert second is not first
        assert second.run("echo ok").stdout == "ok\n"
        assert pool.get(h) is second


def test_pool_reconnect_gives_up(sshd_hosts: SSHDServer) -> None:
    h = Host("down", sshd_hosts.host_vars(sshd_hosts.unreachable))
    with (
        ConnectionPool(retry_delay=0.05) as pool,
        pytest.raises(Unreachable, match="did not come back"),
    ):
        pool.reconnect(h, timeout=0.3)


def test_pool_hosts_in_parallel(sshd_hosts: SSHDServer) -> None:
    hosts = [host(sshd_hosts, i) for i in range(len(sshd_hosts.addresses))]
    with ConnectionPool() as pool, concurrent.futures.ThreadPoolExecutor(3) as ex:
        outs = list(ex.map(lambda h: pool.get(h).run("echo $SSH_CONNECTION").stdout, hosts))
    assert [o.split()[2] for o in outs] == sshd_hosts.addresses
