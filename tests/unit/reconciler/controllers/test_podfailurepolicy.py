"""podFailurePolicy rule matching (kubeform/reconciler/controllers/podfailurepolicy.py);
the Job controller's use of it: tests/data/reconciler/controllers/job/pod-failure-policy-*.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.reconciler.controllers.podfailurepolicy import COUNTED, Verdict, judge


def _pod(codes: dict[str, int | None], init: dict[str, int] | None = None, conditions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    def statuses(c: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"name": n, "state": {"terminated": {"exitCode": v}} if v is not None else {"running": {}}} for n, v in c.items()]

    return {"metadata": {"name": "p", "namespace": "t"},
            "status": {"phase": "Failed", "containerStatuses": statuses(codes), "initContainerStatuses": statuses(init or {}),
                       "conditions": conditions or []}}


def _policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


FAIL_42 = {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}}


@pytest.mark.parametrize(
    "policy,pod,want",
    [
        (None, _pod({"a": 42}), COUNTED),
        (_policy(FAIL_42), _pod({"a": 42}), Verdict(True, "Container a for pod t/p failed with exit code 42 matching FailJob rule at index 0")),
        (_policy(FAIL_42), _pod({"a": 41}), COUNTED),
        (_policy({"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [42]}}), _pod({"a": 42}), Verdict(True, None, True)),
        (_policy(FAIL_42), _pod({"a": None}), COUNTED),  # still terminating: no exit code
        (_policy(FAIL_42), _pod({"a": 0, "b": 42}), Verdict(True, "Container b for pod t/p failed with exit code 42 matching FailJob rule at index 0")),
        (_policy(FAIL_42), _pod({"a": 0}, init={"i": 42}), Verdict(True, "Container i for pod t/p failed with exit code 42 matching FailJob rule at index 0")),
        (_policy({"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [1]}}), _pod({"a": 0}), COUNTED),  # exit 0 never matches
        (_policy({"action": "Ignore", "onExitCodes": {"operator": "NotIn", "values": [1]}}), _pod({"a": 2}), Verdict(False, None)),
        (_policy({"action": "Ignore", "onExitCodes": {"containerName": "b", "operator": "In", "values": [2]}}), _pod({"a": 2}), COUNTED),
        (_policy({"action": "Count", "onExitCodes": {"operator": "In", "values": [42]}}, FAIL_42), _pod({"a": 42}), COUNTED),  # first match wins
        (_policy({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}),
         _pod({"a": 137}, conditions=[{"type": "DisruptionTarget", "status": "True"}]), Verdict(False, None)),
        (_policy({"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}),
         _pod({"a": 137}, conditions=[{"type": "DisruptionTarget", "status": "False"}]), COUNTED),
        (_policy({"action": "FailJob", "onPodConditions": [{"type": "ConfigIssue", "status": "True"}]}),
         _pod({"a": 1}, conditions=[{"type": "ConfigIssue", "status": "True"}]), Verdict(True, "Pod t/p has condition ConfigIssue matching FailJob rule at index 0")),
        (_policy({"action": "FailJob", "onExitCodes": {"operator": "Between", "values": [42]}}), _pod({"a": 42}), COUNTED),
    ],
)
def test_judge(policy: Any, pod: dict[str, Any], want: Verdict) -> None:
    assert judge(policy, pod) == want
