"""Data-driven cases of the wait_for module (tests/data/modules/wait_for/*.yml)."""

from pathlib import Path

import pytest

from kubeform.transport.base import CommandResult
from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("wait_for"))
def test_wait_for(case: Path) -> None:
    check_case(case)


class _Conn:
    """A fake connection whose probe answers from a scripted list."""

    name = "fake"

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.calls = 0

    def run(self, command: str, **_: object) -> CommandResult:
        self.calls += 1
        return CommandResult(0, self.answers.pop(0) if self.answers else "closed\n", "")

    def put(self, content: bytes, path: str, **_: object) -> None:
        raise AssertionError("wait_for never writes")

    def close(self) -> None:
        pass


class _Ctx:
    become = False
    become_user = "root"

    def __init__(self, conn: _Conn) -> None:
        self.conn = conn

    def reconnect(self, timeout: float) -> _Conn:
        return self.conn


def test_wait_step_polls_until_open() -> None:
    from kubeform.modules.wait_for import WaitForModule

    mod = WaitForModule()
    args = {"port": 2379, "sleep": 0.01, "timeout": 5}
    (change,) = mod.plan(args, {"port:127.0.0.1:2379": False})
    conn = _Conn(["closed\n", "closed\n", "open\n"])
    res = change.steps[0].execute(_Ctx(conn))  # type: ignore[arg-type]
    assert res.ok and conn.calls == 3


def test_wait_step_times_out_with_msg() -> None:
    from kubeform.modules.wait_for import WaitForModule

    args = {"port": 2379, "sleep": 0.01, "timeout": 0, "msg": "etcd did not start"}
    (change,) = WaitForModule().plan(args, {"port:127.0.0.1:2379": False})
    res = change.steps[0].execute(_Ctx(_Conn([])))  # type: ignore[arg-type]
    assert not res.ok and res.stderr == "etcd did not start"


def test_port_and_path_probes_are_volatile() -> None:
    """A port or file may change between the up-front fact batch and this task."""
    from kubeform.modules.wait_for import WaitForModule

    assert all(f.volatile for f in WaitForModule().facts({"port": 22}))
    assert all(f.volatile for f in WaitForModule().facts({"path": "/tmp/x"}))
