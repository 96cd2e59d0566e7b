"""host_connection: lazy connect, reconnect, unreachable hosts, running a change's steps."""

from __future__ import annotations

import pytest

from kubeform.engine.host_connection import (
    HostConnection,
    HostStepContext,
    HostUnreachable,
    execute_changes,
    step_failure,
)
from kubeform.inventory.model import Host
from kubeform.modules.base import Change, Run, StepResult
from tests.unit.engine.fakes import FakePool


def test_lazy_connect_and_reconnect_tells_the_run() -> None:
    pool = FakePool()
    told: list[str] = []
    conn = HostConnection(pool, Host("h1"), lambda: told.append("again"))
    assert conn.conn is None
    first = conn.get()
    assert conn.get() is first
    HostStepContext(conn, False, "root").reconnect(1.0)
    assert told == ["again"]


def test_unreachable_becomes_host_unreachable() -> None:
    conn = HostConnection(FakePool(unreachable={"h1"}), Host("h1"), lambda: None)
    with pytest.raises(HostUnreachable, match="connection refused"):
        conn.run_script("true", False, "root")


def test_execute_changes_stops_at_the_first_failed_step() -> None:
    conn = HostConnection(FakePool(), Host("h1"), lambda: None)
    changes = [
        Change(action="change", summary="a", steps=(Run("true"), Run("echo oops >&2; exit 3"))),
        Change(action="change", summary="b", steps=(Run("true"),)),
    ]
    steps, msg = execute_changes(changes, HostStepContext(conn, False, "root"), no_log=False)
    assert len(steps) == 2
    assert msg.endswith("failed (rc=3): oops")
    _, hidden = execute_changes(changes, HostStepContext(conn, False, "root"), no_log=True)
    assert hidden.startswith("a step failed")


def test_step_failure_message() -> None:
    assert step_failure("run x", StepResult(rc=2, stdout="out\n")) == "run x failed (rc=2): out"
