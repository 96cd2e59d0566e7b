"""Beyond 100 nodes the scheduler scores a share of them (Kubernetes' percentageOfNodesToScore)."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.reconciler.scheduler import Snapshot, filters
from kubeform.reconciler.scheduler.podview import pod_view
from kubeform.reconciler.scheduler.schedule import nodes_to_find

from .cases import node, pod


@pytest.mark.parametrize(
    ("total", "want"),
    [(0, 0), (1, 1), (99, 99), (100, 100), (200, 100), (250, 120), (1000, 420), (5000, 500), (6000, 300), (100000, 5000)],
)
def test_nodes_to_find(total: int, want: int) -> None:
    assert nodes_to_find(total) == want


def _cluster() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [node({"name": f"n{i:03d}", "cpu": "2", "memory": "4Gi", "labels": {"zone": "a" if i % 3 else "b"},
                   "taints": ["dedicated=x:NoSchedule"] if i % 7 == 0 else []}) for i in range(250)]  # fmt: skip
    pods = [pod({"name": f"p{i:04d}", "cpu": "300m", "memory": "256Mi", "owner": f"rs{i % 9}",
                 "spec": {"nodeSelector": {"zone": "a"}} if i % 4 == 0 else {}}) for i in range(1500)]  # fmt: skip
    return nodes, pods


def _place(nodes: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[str | None]:
    snap = Snapshot(nodes, [])
    out: list[str | None] = []
    for obj in pods:
        d = snap.schedule(obj)
        if d.node is not None:
            info = snap.node(d.node)
            assert info is not None
            assert filters.reasons(pod_view(obj), info) == []
            bound = dict(obj, spec=dict(obj["spec"], nodeName=d.node))
            snap.assume(bound, d.node)
        out.append(d.node)
    return out


def test_large_cluster_decisions_are_feasible_reproducible_and_use_every_node() -> None:
    nodes, pods = _cluster()
    first = _place(nodes, pods)
    assert first == _place(list(reversed(nodes)), pods)
    usable = {n["metadata"]["name"] for n in nodes if not n["spec"].get("taints")}
    assert set(first) - {None} == usable  # 6 cpu-bound pods per node: all usable nodes fill up
    assert first.count(None) == 1500 - 6 * len(usable)
