"""Scheduler decisions against tests/data/scheduler/*.yaml (data-driven).

Each case: nodes, existing pods, pods to place in order (each placed one is assumed on its
node before the next decision) and, per placed pod, the node it goes to or the exact
FailedScheduling message.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.reconciler.scheduler import Snapshot

from .cases import load_cases, nodes, pod

CASES = load_cases()


def _run(case: dict[str, Any]) -> list[Any]:
    snap = Snapshot(nodes(case["nodes"]), [pod(p) for p in case.get("pods") or []])
    got: list[Any] = []
    for spec in case["place"]:
        obj = pod(spec)
        decision = snap.schedule(obj)
        if decision.node is None:
            assert decision.reason == "Unschedulable"
            got.append({"message": decision.message})
        else:
            assert decision.reason == "Scheduled"
            assert decision.message == f"Successfully assigned {obj['metadata'].get('namespace', 'default')}/{obj['metadata']['name']} to {decision.node}"
            got.append(decision.node)
            obj["spec"]["nodeName"] = decision.node
            snap.assume(obj, decision.node)
    return got


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_case(case: dict[str, Any]) -> None:
    assert _run(case) == case["expect"]


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_same_input_same_decisions(case: dict[str, Any]) -> None:
    """Reproducible: a fresh snapshot with nodes listed in reverse decides the same."""
    again = dict(case, nodes=list(reversed(case["nodes"])))
    assert _run(again) == _run(case)
