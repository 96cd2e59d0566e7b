"""The file and command modules applied for real through LocalConnection, in a tmp dir.

Why: the unit cases prove the plans; this proves that the probes run under ``/bin/sh``
(batched as the engine batches them), that the steps do what the plan says, and that a
second plan after applying is empty. Only paths under pytest's tmp dir are touched:
never system files, sysctl values or kernel modules of this machine.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from kubeform.engine.facts_batch import batch_script, new_nonce, parse_batch
from kubeform.inventory.model import Host
from kubeform.modules import lookup
from kubeform.modules.base import Change, Module
from kubeform.transport.base import Connection
from kubeform.transport.local import LocalConnection

pytestmark = pytest.mark.integration


class Ctx:
    """StepContext and PrepareContext at once, for a local connection."""

    become = False
    become_user = "root"

    def __init__(self, conn: Connection, base_dir: Path) -> None:
        self.conn = conn
        self.base_dir = str(base_dir)

    def reconnect(self, timeout: float) -> Connection:
        return self.conn

    def read_local(self, path: str) -> bytes:
        return (Path(self.base_dir) / path).read_bytes()

    def render(self, text: str) -> str:
        import jinja2

        env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
        return env.from_string(text).render(node="node1", subnet="10.244.1.0/24")


@pytest.fixture
def ctx(tmp_path: Path) -> Ctx:
    conn = LocalConnection(Host(name="local", vars={"ansible_connection": "local"}))
    return Ctx(conn, tmp_path)


def plan(
    name: str, args: Mapping[str, Any], ctx: Ctx
) -> tuple[Module, dict[str, Any], list[Change]]:
    """prepare -> facts (one batched script, as the engine runs them) -> plan."""
    cls = lookup(name)
    assert cls is not None
    mod = cls()
    prepared = mod.prepare(args, ctx)
    facts = mod.facts(prepared)
    nonce = new_nonce()
    res = ctx.conn.run(batch_script(facts, nonce))
    outputs = parse_batch(res.stdout, len(facts), nonce)
    parsed = {f.key: f.parse(out, rc) for f, (out, rc) in zip(facts, outputs, strict=True)}
    return mod, prepared, mod.plan(prepared, parsed)


def converge(name: str, args: Mapping[str, Any], ctx: Ctx) -> list[Change]:
    """Apply the plan's steps, then assert a second plan is empty; returns the changes."""
    _, _, changes = plan(name, args, ctx)
    for change in changes:
        for step in change.steps:
            result = step.execute(ctx)
            assert result.ok, f"{step.describe()}: {result.stderr}"
    _, _, again = plan(name, args, ctx)
    assert again == [], f"{name} did not converge: {again}"
    return changes


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_copy_and_template(ctx: Ctx, tmp_path: Path) -> None:
    dest = tmp_path / "etc" / "motd"
    (tmp_path / "etc").mkdir()
    assert converge("copy", {"dest": str(dest), "content": "hello\n", "mode": "0600"}, ctx)
    assert dest.read_text() == "hello\n" and mode_of(dest) == 0o600
    assert converge("copy", {"dest": str(dest), "content": "bye\n"}, ctx)
    assert dest.read_text() == "bye\n" and mode_of(dest) == 0o600  # mode kept
    (tmp_path / "blob").write_bytes(b"\x00\xffbinary")
    changes = converge("ansible.builtin.copy", {"src": "blob", "dest": f"{tmp_path}/etc/"}, ctx)
    assert changes[0].diff is not None and "sha256" in str(changes[0].diff.after)
    assert (tmp_path / "etc" / "blob").read_bytes() == b"\x00\xffbinary"
    (tmp_path / "subnet.env.j2").write_text("FLANNEL_SUBNET={{ subnet }}\n")
    env = tmp_path / "etc" / "subnet.env"
    assert converge(
        "template", {"src": "subnet.env.j2", "dest": str(env), "mode": "u=rw,go=r"}, ctx
    )
    assert env.read_text() == "FLANNEL_SUBNET=10.244.1.0/24\n" and mode_of(env) == 0o644


def test_file_states(ctx: Ctx, tmp_path: Path) -> None:
    d = tmp_path / "pki" / "etcd"
    assert converge("file", {"path": str(d), "state": "directory", "mode": "0700"}, ctx)
    assert d.is_dir() and mode_of(d) == 0o700
    (d / "a.crt").write_text("x")
    assert converge(
        "file",
        {"path": str(tmp_path / "pki"), "state": "directory", "mode": "0750", "recurse": True},
        ctx,
    )
    assert mode_of(d / "a.crt") == 0o750
    flag = tmp_path / "flag"
    assert converge("file", {"path": str(flag), "state": "touch"}, ctx)
    assert flag.is_file()
    link = tmp_path / "current"
    assert converge("file", {"path": str(link), "src": str(d), "state": "link"}, ctx)
    assert os.readlink(link) == str(d)
    assert converge("file", {"path": str(link), "src": str(flag)}, ctx)
    assert os.readlink(link) == str(flag)
    assert converge("file", {"path": str(tmp_path / "pki"), "state": "absent"}, ctx)
    assert not (tmp_path / "pki").exists()


def test_lineinfile_and_blockinfile(ctx: Ctx, tmp_path: Path) -> None:
    conf = tmp_path / "selinux" / "config"
    args = {"path": str(conf), "regexp": "^SELINUX=", "line": "SELINUX=enforcing", "create": True}
    assert converge("lineinfile", args, ctx)
    assert converge("lineinfile", {**args, "line": "SELINUX=permissive"}, ctx)
    assert converge(
        "lineinfile",
        {"path": str(conf), "line": "SELINUXTYPE=targeted", "insertbefore": "BOF"},
        ctx,
    )
    assert conf.read_text() == "SELINUXTYPE=targeted\nSELINUX=permissive\n"
    assert converge(
        "lineinfile", {"path": str(conf), "regexp": "^SELINUXTYPE", "state": "absent"}, ctx
    )
    assert conf.read_text() == "SELINUX=permissive\n"
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    assert converge("blockinfile", {"path": str(hosts), "block": "192.168.56.11 node1\n"}, ctx)
    assert converge("blockinfile", {"path": str(hosts), "block": "192.168.56.12 node2\n"}, ctx)
    assert "node2" in hosts.read_text() and "node1" not in hosts.read_text()
    assert converge("blockinfile", {"path": str(hosts), "state": "absent"}, ctx)
    assert hosts.read_text() == "127.0.0.1 localhost\n"


def test_lineinfile_follows_symlink(ctx: Ctx, tmp_path: Path) -> None:
    real = tmp_path / "real.conf"
    real.write_text("a=1\n")
    (tmp_path / "link.conf").symlink_to(real)
    assert converge("lineinfile", {"path": str(tmp_path / "link.conf"), "line": "b=2"}, ctx)
    assert real.read_text() == "a=1\nb=2\n" and (tmp_path / "link.conf").is_symlink()


def test_sysctl_file_only(ctx: Ctx, tmp_path: Path) -> None:
    conf = tmp_path / "sysctl.d" / "99-kubeform.conf"
    base = {"sysctl_file": str(conf), "reload": False}
    assert converge("sysctl", {**base, "name": "net.ipv4.ip_forward", "value": 1}, ctx)
    assert converge("sysctl", {**base, "name": "vm.swappiness", "value": "0"}, ctx)
    assert converge("sysctl", {**base, "name": "net.ipv4.ip_forward", "value": "0"}, ctx)
    assert conf.read_text() == "net.ipv4.ip_forward = 0\nvm.swappiness = 0\n"
    assert converge("sysctl", {**base, "name": "vm.swappiness", "state": "absent"}, ctx)
    assert conf.read_text() == "net.ipv4.ip_forward = 0\n"


def test_swap_fstab_in_tmp(ctx: Ctx, tmp_path: Path) -> None:
    swaps = Path("/proc/swaps")
    if swaps.exists() and len(swaps.read_text().splitlines()) > 1:
        pytest.skip("this machine has active swap; the test must not turn it off")
    fstab = tmp_path / "fstab"
    original = "/dev/sda1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n"
    fstab.write_text(original)
    changes = converge("swap", {"fstab": str(fstab)}, ctx)
    assert [s.describe() for c in changes for s in c.steps if "swapoff" in s.describe()] == []
    assert fstab.read_text() == original.replace("/swapfile", "# kubeform: /swapfile")
    _, _, back = plan("swap", {"fstab": str(fstab), "state": "present"}, ctx)
    for step in back[0].steps:  # only the fstab upload; never swapon on this machine
        assert step.execute(ctx).ok
    assert fstab.read_text() == original


def test_command_and_shell(ctx: Ctx, tmp_path: Path) -> None:
    args = {"_raw_params": "touch made", "chdir": str(tmp_path), "creates": "mad*"}
    assert converge("command", args, ctx)
    assert (tmp_path / "made").exists()
    out = tmp_path / "out.txt"
    assert converge("shell", {"cmd": f"echo a b | tr ' ' '\\n' > {out}", "creates": str(out)}, ctx)
    assert out.read_text() == "a\nb\n"
    assert converge("command", {"argv": ["rm", str(out)], "removes": str(out)}, ctx)
    assert not out.exists()


def test_wait_for(ctx: Ctx, tmp_path: Path) -> None:
    target = tmp_path / "subnet.env"
    _, _, changes = plan(
        "wait_for", {"path": str(target), "search_regex": "^FLANNEL_SUBNET=", "timeout": 5}, ctx
    )
    assert len(changes) == 1
    target.write_text("FLANNEL_SUBNET=10.244.1.1/24\n")
    assert changes[0].steps[0].execute(ctx).ok
    _, _, again = plan(
        "wait_for", {"path": str(target), "search_regex": "^FLANNEL_SUBNET=", "timeout": 5}, ctx
    )
    assert again == []
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        port = srv.getsockname()[1]
        _, _, open_now = plan("wait_for", {"host": "127.0.0.1", "port": port}, ctx)
        assert open_now == []
    _, _, closed = plan(
        "wait_for", {"port": port, "timeout": 0, "sleep": 0.1, "connect_timeout": 1}, ctx
    )
    result = closed[0].steps[0].execute(ctx)
    assert not result.ok and "Timeout" in result.stderr


def test_kernel_module_fact_reads_this_kernel(ctx: Ctx) -> None:
    """Read-only: the probe parses this machine's kernel (nothing is loaded or written)."""
    from kubeform.modules.kernel_module import kmod_fact

    fact = kmod_fact("nf_conntrack")
    res = ctx.conn.run(fact.command)
    parsed = fact.parse(res.stdout, res.rc)
    assert parsed.release == os.uname().release


def test_validate_keeps_a_bad_file_out(ctx: Ctx, tmp_path: Path) -> None:
    """validate (copy/template/lineinfile/blockinfile): a failing check leaves dest untouched."""
    dest = tmp_path / "sudoers"
    dest.write_text("good\n")
    _, _, changes = plan("copy", {"dest": str(dest), "content": "bad\n", "validate": "grep -q good %s"}, ctx)
    first = changes[0].steps[0]
    assert not first.execute(ctx).ok
    assert dest.read_text() == "good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sudoers"], "the temporary file is removed"
    assert converge("lineinfile", {"path": str(dest), "line": "also good", "validate": "grep -q good %s"}, ctx)
    assert dest.read_text() == "good\nalso good\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sudoers"]
