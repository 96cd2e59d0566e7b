"""lifecycle.plan: pod + observed + now -> actions and waiting reasons (tests/data/agent_runtime/lifecycle)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.agent.runtime import lifecycle

from .cases import case_files, describe, load, observed, t


@pytest.mark.parametrize("path", case_files("lifecycle"), ids=lambda p: p.stem)
def test_plan(path: Path) -> None:
    case = load(path)
    pod = case["pod"]
    got = lifecycle.plan(pod, observed(pod, case.get("observed")), t(case["now"]))
    expected = case["expected"]
    assert [describe(a) for a in got.actions] == expected.get("actions", [])
    waiting = {name: list(v) for name, v in got.waiting.items()}
    want = {name: list(v) if isinstance(v, list) else [v, waiting.get(name, ["", ""])[1]] for name, v in (expected.get("waiting") or {}).items()}
    assert waiting == want


def test_attempt_numbers_never_repeat_after_a_reboot() -> None:
    pod = {"metadata": {"uid": "u"}, "status": {"containerStatuses": [{"name": "app", "restartCount": 4, "containerID": "crun://x"}]}}
    assert lifecycle.next_attempt(pod, "app", []) == 5
    assert lifecycle.next_attempt({"metadata": {"uid": "u"}}, "app", []) == 0
