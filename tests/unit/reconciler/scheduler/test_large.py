"""Hundreds of nodes: the indexed decision (index.py) equals the plain one over every node."""

from __future__ import annotations

from typing import Any

from kubeform.reconciler.scheduler import Snapshot, filters, scores
from kubeform.reconciler.scheduler.podview import pod_view

from .cases import node, pod


def _cluster() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [node({"name": f"n{i:03d}", "cpu": ["2", "4"][i % 2], "memory": ["4Gi", "8Gi"][i % 3 % 2],
                   "labels": {"zone": "a" if i % 3 else "b"},
                   "taints": ["dedicated=x:NoSchedule"] if i % 7 == 0 else ["spot:PreferNoSchedule"] if i % 11 == 0 else []})
             for i in range(250)]  # fmt: skip
    pods = [pod({"name": f"p{i:04d}", "cpu": ["300m", "100m", "0"][i % 3], "memory": ["256Mi", "1Gi"][i % 2],
                 "owner": f"rs{i % 9}", "hostPorts": [8080] if i % 13 == 0 else [],
                 "spec": {"nodeSelector": {"zone": "a"}} if i % 4 == 0 else {}}) for i in range(2500)]  # fmt: skip
    return nodes, pods


def test_indexed_decisions_equal_the_reference_and_fill_the_cluster() -> None:
    nodes, pods = _cluster()
    snap = Snapshot(nodes, [])
    placed: list[str | None] = []
    for i, obj in enumerate(pods):
        d = snap.schedule(obj)
        view = pod_view(obj)
        # the reference: every node filtered and scored the plain way
        infos = [snap.node(name) for name in snap.node_names]
        feasible = [n for n in infos if n is not None and not filters.reasons(view, n)]
        want = scores.best(view, feasible)
        assert d.node == (want.name if want else None), i
        if d.node is not None:
            bound = dict(obj, spec=dict(obj["spec"], nodeName=d.node))
            snap.assume(bound, d.node)
            if i % 10 == 0:  # pods also leave: the index must see nodes getting roomier
                snap.forget(bound)
        placed.append(d.node)
    usable = {n["metadata"]["name"] for n in nodes if "dedicated" not in str(n["spec"].get("taints"))}
    assert set(placed) - {None} == usable
    assert None in placed  # the cluster filled up
