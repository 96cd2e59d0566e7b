"""outcomes: a task's status, registered value and item outcome, from tests/data/engine/outcomes.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine import outcomes
from kubeform.engine.outcomes import Outcome
from kubeform.engine.variables import Vars
from kubeform.modules.base import Change, Diff

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "engine" / "outcomes.yml").read_text())


def _items(statuses: list[str]) -> list[Outcome]:
    return [Outcome(s, {"n": i}) for i, s in enumerate(statuses)]


@pytest.mark.parametrize("case", CASES["status"], ids=lambda c: f"{c['items']}-{c['looped']}")
def test_task_status(case: dict[str, Any]) -> None:
    assert outcomes.task_status(_items(case["items"]), case["looped"]) == case["status"]


@pytest.mark.parametrize("case", CASES["registered"], ids=lambda c: f"{c['items']}-{c['looped']}")
def test_registered_value(case: dict[str, Any]) -> None:
    items = _items(case["items"])
    status = outcomes.task_status(items, case["looped"])
    assert outcomes.registered_value(items, status, case["looped"]) == case["value"]


@pytest.mark.parametrize("case", CASES["module"], ids=lambda c: c["name"])
def test_module_outcome(case: dict[str, Any]) -> None:
    changes = [Change(action="change", summary="write /x", diff=Diff("/x", "a", "b"))] * case["changes"]
    result: Any = case.get("module_result", {})
    if "module_result_error" in case:
        result = KeyError("x")
    item = outcomes.module_outcome(
        changes=changes, module_result=result, failed_msg=case.get("failed_msg", ""),
        would_run=case.get("would_run", False), action="m", register=case.get("register"),
        changed_when=case.get("changed_when"), failed_when=case.get("failed_when"), no_log=False,
        check=case.get("check", False), v=Vars({}),
    )  # fmt: skip
    expect = case["expect"]
    assert item.status == expect["status"]
    if "msg" in expect:
        assert item.msg == expect["msg"]
    for key in ("changed", "failed"):
        if key in expect:
            assert item.result[key] is expect[key]


def test_diff_kept_unless_no_log_or_secret() -> None:
    changes = [Change(action="change", summary="s", diff=Diff("/a", "1", "2")), Change(action="change", summary="t", diff=Diff("/b", "x", "y", secret=True))]
    shown = outcomes.module_outcome(
        changes=changes, module_result={}, failed_msg="", would_run=False, action="m", register=None,
        changed_when=None, failed_when=None, no_log=False, check=False, v=Vars({}),
    )  # fmt: skip
    assert shown.result["diff"] == [{"label": "/a", "before": "1", "after": "2"}]
    hidden = outcomes.module_outcome(
        changes=changes, module_result={}, failed_msg="", would_run=False, action="m", register=None,
        changed_when=None, failed_when=None, no_log=True, check=False, v=Vars({}),
    )  # fmt: skip
    assert "diff" not in hidden.result


def test_until_exhausted_keeps_the_last_error() -> None:
    item = outcomes.until_exhausted(outcomes.failed("rc=1"), 3)
    assert item.msg == "'until' still false after 3 attempts: rc=1"
    assert item.result["attempts"] == 3 and item.result["failed"] is True


def test_messages_changes_and_item_lines() -> None:
    change = Change(action="change", summary="write /x")
    items = [Outcome("changed", {}, changes=[change], msg="write /x", label="a"),
             Outcome("failed", {}, changes=[change], msg="boom", label="b")]  # fmt: skip
    assert outcomes.task_message(items, no_log=False) == "write /x; boom"
    assert outcomes.task_message(items, no_log=True) == "(output hidden by no_log)"
    assert outcomes.item_lines(items, looped=True) == ["changed: a", "failed: b"]
    assert len(outcomes.shown_changes(items, looped=True, no_log=False, check=False)) == 2
    assert len(outcomes.shown_changes(items, looped=True, no_log=False, check=True)) == 1


def test_reads_only_its_own_register() -> None:
    assert outcomes.reads(["r.rc == 0"], "r")
    assert not outcomes.reads(["other.rc == 0"], "r")
    assert not outcomes.reads(["r.rc == 0"], None)
