"""Properties of the scheduler over random clusters (hypothesis).

- a chosen node passes every filter; no choice means every node failed one, and the
  message counts at least one reason per node;
- the chosen node has the best score of all feasible nodes, ties to the first name;
- counting pods incrementally (assume, forget) equals rebuilding from scratch.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeform.reconciler.scheduler import Snapshot, filters, scores
from kubeform.reconciler.scheduler.podview import pod_view

from .cases import node, pod

LABELS = st.dictionaries(st.sampled_from(["zone", "disk", "gpu"]), st.sampled_from(["a", "b", "1", "16"]), max_size=3)
TAINTS = st.lists(
    st.sampled_from(["a:NoSchedule", "b=1:NoExecute", "c:PreferNoSchedule", "d=x:PreferNoSchedule", "a:NoExecute"]),
    max_size=3,
    unique=True,
)
TOLERATIONS = st.lists(
    st.fixed_dictionaries(
        {"key": st.sampled_from(["", "a", "b", "c"]), "operator": st.sampled_from(["Exists", "Equal"])},
        optional={"value": st.sampled_from(["", "1", "x"]), "effect": st.sampled_from(["NoSchedule", "NoExecute", "PreferNoSchedule"])},
    ),
    max_size=2,
)
CPU = st.sampled_from(["0", "100m", "250m", "500m", "1", "1500m", "2"])
MEMORY = st.sampled_from(["0", "64Mi", "256Mi", "1Gi", "3Gi"])


@st.composite
def node_specs(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 6))
    return [
        {
            "name": f"n{i}",
            "cpu": draw(st.sampled_from(["1", "2", "4"])),
            "memory": draw(st.sampled_from(["1Gi", "4Gi"])),
            "pods": draw(st.sampled_from(["1", "3", "110"])),
            "labels": draw(LABELS),
            "taints": draw(TAINTS),
            "ready": draw(st.sampled_from([True, True, True, False])),
            "unschedulable": draw(st.booleans()) and draw(st.booleans()),
        }
        for i in range(count)
    ]


@st.composite
def pod_specs(draw: Any, name: str, nodes: list[str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"tolerations": draw(TOLERATIONS)}
    if draw(st.booleans()):
        spec["nodeSelector"] = draw(LABELS)
    if draw(st.booleans()):
        expr = {"key": draw(st.sampled_from(["zone", "disk", "gpu"])),
                "operator": draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]))}
        if expr["operator"] not in ("Exists", "DoesNotExist"):
            expr["values"] = draw(st.lists(st.sampled_from(["a", "b", "1", "8"]), min_size=1, max_size=2))
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [expr]}]}}}  # fmt: skip
    out = {"name": name, "cpu": draw(CPU), "memory": draw(MEMORY), "spec": spec,
           "owner": draw(st.sampled_from([None, "web", "db"])), "labels": draw(st.sampled_from([None, {"app": "x"}]))}  # fmt: skip
    if draw(st.booleans()):
        out["hostPorts"] = [draw(st.sampled_from([80, 443]))]
    if nodes and draw(st.booleans()):
        out["node"] = draw(st.sampled_from(nodes))
    return out


@st.composite
def clusters(draw: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = draw(node_specs())
    names = [n["name"] for n in nodes]
    existing = [draw(pod_specs(f"old{i}", names)) for i in range(draw(st.integers(0, 6)))]
    pending = [dict(draw(pod_specs(f"new{i}", [])), node=None) for i in range(draw(st.integers(1, 4)))]
    return nodes, existing, pending


@settings(max_examples=150, deadline=None)
@given(clusters())
def test_decisions_respect_filters_and_scores(cluster: Any) -> None:
    node_list, existing, pending = cluster
    nodes = [node(n) for n in node_list]
    bound = [pod(p) for p in existing]
    snap = Snapshot(nodes, bound)
    for spec in pending:
        obj = pod(spec)
        decision = snap.schedule(obj)
        view = pod_view(obj)
        infos = [snap.node(n["name"]) for n in node_list]
        per_node = {i.name: filters.reasons(view, i) for i in infos if i is not None}
        feasible = [i for i in infos if i is not None and not per_node[i.name]]
        if decision.node is None:
            assert not feasible
            counted = sum(int(c) for c in re.findall(r"(?:: |, )(\d+) ", decision.message))
            assert decision.message.startswith(f"0/{len(nodes)} nodes are available: ")
            assert counted >= len(nodes)
        else:
            assert per_node[decision.node] == []
            top = max(s for s, _ in scores.scored(view, feasible))
            assert decision.node == min(n.name for s, n in scores.scored(view, feasible) if s == top)
            obj["spec"]["nodeName"] = decision.node
            snap.assume(obj, decision.node)
            bound.append(obj)
    _same_load(snap, Snapshot(nodes, bound))


def _load(snap: Snapshot) -> dict[str, tuple[Any, ...]]:
    out = {}
    for name in snap.node_names:
        i = snap.node(name)
        assert i is not None
        out[name] = (i.cpu, i.memory, i.nonzero_cpu, i.nonzero_memory, i.pods, i.free_cpu, i.free_memory,
                     i.free_pods, i.ports, i.spread)  # fmt: skip
    return out


def _same_load(a: Snapshot, b: Snapshot) -> None:
    assert _load(a) == _load(b)


@settings(max_examples=60, deadline=None)
@given(clusters())
def test_forget_undoes_assume(cluster: Any) -> None:
    node_list, existing, pending = cluster
    nodes = [node(n) for n in node_list]
    bound = [pod(p) for p in existing]
    snap = Snapshot(nodes, bound)
    before = _load(snap)
    moved = []
    for i, spec in enumerate(pending):
        obj = pod(spec)
        target = node_list[i % len(node_list)]["name"]
        obj["spec"]["nodeName"] = target
        snap.assume(obj, target)
        snap.assume(obj, target)  # twice: counted once
        moved.append(obj)
    for obj in moved:
        snap.forget(obj)
    assert _load(snap) == before
    for obj in bound:
        snap.forget(obj)
    assert all(v[4] == 0 and not v[8] and not v[9] for v in _load(snap).values())


@settings(max_examples=60, deadline=None)
@given(clusters(), st.data())
def test_observe_equals_rebuild(cluster: Any, data: Any) -> None:
    """Feeding pod versions one by one (informer events) ends where a rebuild from the last
    version of each pod starts."""
    node_list, existing, _ = cluster
    nodes = [node(n) for n in node_list]
    snap = Snapshot(nodes, [pod(p) for p in existing])
    latest = {p["name"]: pod(p) for p in existing}
    names = [n["name"] for n in node_list] + ["unknown-node"]
    for spec in existing:
        for _ in range(data.draw(st.integers(0, 3))):
            version = pod(dict(spec, node=data.draw(st.sampled_from([*names, None])),
                               phase=data.draw(st.sampled_from([None, "Running", "Succeeded", "Failed"]))))  # fmt: skip
            snap.observe(version)
            latest[spec["name"]] = version
    _same_load(snap, Snapshot(nodes, list(latest.values())))


@settings(max_examples=80, deadline=None)
@given(clusters(), st.lists(st.tuples(st.sampled_from(["place", "place", "forget"]), st.integers(0, 50)), min_size=1, max_size=25), st.data())
def test_decisions_stay_exact_while_pods_come_and_go(cluster: Any, steps: Any, data: Any) -> None:
    """The per-shape index (index.py) against the plain pass, over placements and removals."""
    node_list, existing, pending = cluster
    nodes = [node(n) for n in node_list]
    snap = Snapshot(nodes, [pod(p) for p in existing])
    placed: list[dict[str, Any]] = [pod(p) for p in existing if p.get("node")]
    for step, (action, pick) in enumerate(steps):
        if action == "forget" and placed:
            snap.forget(placed.pop(pick % len(placed)))
            continue
        spec = dict(pending[pick % len(pending)], name=f"s{step}")
        obj = pod(spec)
        decision = snap.schedule(obj)
        view = pod_view(obj)
        infos = [snap.node(n["name"]) for n in node_list]
        feasible = [i for i in infos if i is not None and not filters.reasons(view, i)]
        want = scores.best(view, feasible)
        assert decision.node == (want.name if want else None)
        if decision.node is not None:
            obj["spec"]["nodeName"] = decision.node
            snap.assume(obj, decision.node)
            placed.append(obj)
