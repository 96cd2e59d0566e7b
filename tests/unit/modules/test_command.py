"""Data-driven cases of the command module (tests/data/modules/command/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("command"))
def test_command(case: Path) -> None:
    check_case(case)


def test_result_when_skipped_and_when_run() -> None:
    from kubeform.modules.base import StepResult
    from kubeform.modules.command import Command

    args = {"_raw_params": "ls", "creates": "/x"}
    skipped = Command().result(args, {"exists:/x": True}, [])
    assert skipped["msg"] == "skipped, since /x exists" and skipped["rc"] == 0
    ran = Command().result(args, {"exists:/x": False}, [StepResult(0, "a\nb\n\n", "", {"rc": 0})])
    assert ran["stdout"] == "a\nb" and ran["stdout_lines"] == ["a", "b"] and ran["cmd"] == "ls"


def test_stdin_gets_a_newline() -> None:
    from kubeform.modules.base import Run
    from kubeform.modules.command import Command

    (change,) = Command().plan({"_raw_params": "cat", "stdin": "hi"}, {})
    step = change.steps[0]
    assert isinstance(step, Run) and step.stdin == b"hi\n"
