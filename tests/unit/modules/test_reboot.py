"""reboot: the plan is always one Reboot step; the step is checked with a fake host."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kubeform.modules.reboot import BOOT_ID, Reboot, reboot_command
from kubeform.transport.base import CommandResult, Connection, Unreachable
from tests.unit.fake_connection import RecordingConnection
from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("reboot"))
def test_case(path: Path) -> None:
    check_case(path)


@dataclass
class FakeHost:
    """A host whose boot id changes after ``down_for`` failed reconnects (or never)."""

    boot_ids: list[str]
    down_for: int = 1
    test_rc: list[int] = field(default_factory=lambda: [0])
    commands: list[str] = field(default_factory=list)
    reconnects: int = 0

    def conn(self) -> FakeConn:
        return FakeConn(self)


class FakeConn(RecordingConnection):
    """Answers the reboot step's probes from its FakeHost; expects no uploads."""

    def __init__(self, host: FakeHost) -> None:
        super().__init__("h1", commands=host.commands)
        self.host = host

    def answer(self, command: str, stdin: bytes | None) -> CommandResult:
        if command == BOOT_ID:
            ids = self.host.boot_ids
            current = ids[0] if len(ids) == 1 else ids.pop(0)
            return CommandResult(0, current + "\n", "")
        if command == "whoami":
            rcs = self.host.test_rc
            rc = rcs[0] if len(rcs) == 1 else rcs.pop(0)
            return CommandResult(rc, "root\n" if rc == 0 else "", "" if rc == 0 else "not yet")
        return CommandResult(0, "", "")

    def put(
        self, content: bytes, path: str, *, mode: int | None = None, become: bool = False
    ) -> None:
        raise AssertionError("no uploads expected")


class FakeCtx:
    """A StepContext whose clock advances only when the step sleeps or reconnects."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host
        self.conn: Connection = host.conn()
        self.become = True
        self.become_user = "root"
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def reconnect(self, timeout: float) -> Connection:
        self.host.reconnects += 1
        if self.host.down_for < 0 or self.host.reconnects <= self.host.down_for:
            self.now += min(timeout, 30)
            raise Unreachable("connection refused")
        self.conn = self.host.conn()
        return self.conn


def _step(ctx: FakeCtx, **kw: object) -> Reboot:
    return Reboot(sleep=ctx.sleep, clock=ctx.clock, **kw)  # type: ignore[arg-type]


def test_new_boot_id_is_success() -> None:
    host = FakeHost(boot_ids=["aaa", "bbb"], down_for=2)
    ctx = FakeCtx(host)
    res = _step(ctx).execute(ctx)
    assert res.ok, res.stderr
    assert res.extra["rebooted"] is True
    assert host.commands[1] == reboot_command(0, "Reboot initiated by kubeform")
    assert host.commands[-1] == "whoami"


def test_same_boot_id_until_timeout_fails() -> None:
    host = FakeHost(boot_ids=["aaa"], down_for=0)
    ctx = FakeCtx(host)
    res = _step(ctx, reboot_timeout=60).execute(ctx)
    assert not res.ok
    assert "same boot id" in res.stderr
    assert "60s" in res.stderr


def test_host_never_back_fails() -> None:
    host = FakeHost(boot_ids=["aaa", "bbb"], down_for=-1)
    ctx = FakeCtx(host)
    res = _step(ctx, reboot_timeout=120).execute(ctx)
    assert not res.ok
    assert "did not come back" in res.stderr
    assert "connection refused" in res.stderr


def test_old_id_first_then_new() -> None:
    """The old sshd may still answer right after the reboot command: keep waiting."""
    host = FakeHost(boot_ids=["aaa", "aaa", "aaa", "ccc"], down_for=0)
    ctx = FakeCtx(host)
    res = _step(ctx).execute(ctx)
    assert res.ok, res.stderr


def test_test_command_retried_then_fails() -> None:
    host = FakeHost(boot_ids=["aaa", "bbb"], down_for=0, test_rc=[1])
    ctx = FakeCtx(host)
    res = _step(ctx, reboot_timeout=30).execute(ctx)
    assert not res.ok
    assert "test_command" in res.stderr


def test_test_command_succeeds_later() -> None:
    host = FakeHost(boot_ids=["aaa", "bbb"], down_for=0, test_rc=[1, 1, 0])
    ctx = FakeCtx(host)
    assert _step(ctx, post_reboot_delay=5).execute(ctx).ok


def test_reboot_command_detaches() -> None:
    cmd = reboot_command(0, "it's time")
    assert cmd.startswith("nohup sh -c ") and cmd.endswith("</dev/null >/dev/null 2>&1 &")
    assert "sleep 1;" in cmd
