"""The DaemonSet controller: state in, actions out (tests/data/reconciler/controllers/daemonset/).

Case format: tests/unit/reconciler/controllers/cases.py. The eligibility rule, the
int-or-percent budget and ``related`` are tested directly below.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeform.reconciler.controllers import CONTROLLERS, daemonset
from kubeform.reconciler.machinery.cache import Cache, Change, Item
from kubeform.reconciler.scheduler.nodeinfo import NodeInfo
from kubeform.reconciler.scheduler.podview import pod_view
from kubeform.store import rollout_sets

from .casefile import cases, now_of, view_of
from .cases import summary
from .simcluster import SimCluster, kubelet_one, run_until_quiet

CASES = cases("daemonset")


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_sync(name: str, case: dict[str, Any]) -> None:
    view = view_of(case)
    got = [summary(a, case.get("show"), case.get("create_show")) for a in daemonset.sync(case["sync"], view, now_of(case))]
    assert got == case["expect"]


@pytest.mark.parametrize(
    "value,total,up,want",
    [(1, 3, True, 1), ("50%", 3, True, 2), ("50%", 3, False, 1), ("0%", 5, True, 0), ("100%", 7, True, 7), ("x", 3, True, 0), ("2", 3, True, 2)],
)
def test_scaled(value: Any, total: int, up: bool, want: int) -> None:
    assert daemonset.scaled(value, total, up) == want


def _node(taints: list[dict[str, str]] | None = None, unschedulable: bool = False, labels: dict[str, str] | None = None) -> NodeInfo:
    return NodeInfo({"metadata": {"name": "n", "labels": labels or {}}, "spec": {"taints": taints or [], "unschedulable": unschedulable}})


def _ds(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "d", "namespace": "t"}, "spec": {"template": {"spec": spec}}}


@pytest.mark.parametrize(
    "spec,node,want",
    [
        ({}, _node(), (True, True)),
        ({}, _node(unschedulable=True), (True, True)),
        ({}, _node([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]), (True, True)),
        ({}, _node([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]), (False, True)),
        ({"hostNetwork": True}, _node([{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]), (True, True)),
        ({}, _node([{"key": "x", "value": "y", "effect": "NoExecute"}]), (False, False)),
        ({}, _node([{"key": "x", "value": "y", "effect": "PreferNoSchedule"}]), (True, True)),
        ({"nodeSelector": {"a": "b"}}, _node(labels={"a": "c"}), (False, False)),
        ({"nodeSelector": {"a": "b"}}, _node(labels={"a": "b"}), (True, True)),
    ],
)
def test_placement(spec: dict[str, Any], node: NodeInfo, want: tuple[bool, bool]) -> None:
    assert tuple(daemonset.placement(pod_view(daemonset.eligibility_pod(_ds(spec))), node)) == want


def test_target_node_from_affinity() -> None:
    spec: dict[str, Any] = {}
    daemonset.with_node_affinity(spec, "n9")
    assert daemonset.target_node({"spec": spec}) == "n9"
    assert daemonset.target_node({"spec": dict(spec, nodeName="n2")}) == "n2"
    assert daemonset.target_node({"spec": {}}) == ""


def test_tolerations_added_once() -> None:
    spec: dict[str, Any] = {"tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}]}
    daemonset.with_daemon_tolerations(spec)
    daemonset.with_daemon_tolerations(spec)
    assert len(spec["tolerations"]) == len(daemonset.DAEMON_TOLERATIONS)


def test_related() -> None:
    view = Cache.from_objects(
        {
            "/registry/daemonsets/t/a": {"metadata": {"name": "a", "namespace": "t"}},
            "/registry/daemonsets/u/b": {"metadata": {"name": "b", "namespace": "u"}},
        }
    )

    def change(key: str, new: Any) -> Change:
        return Change(key, None, Item(key, new, 2))

    owned = {"metadata": {"name": "p", "namespace": "u", "ownerReferences": [{"kind": "DaemonSet", "name": "b", "controller": True}]}}
    assert daemonset.related(change("/registry/minions/n1", {}), view) == ["/registry/daemonsets/t/a", "/registry/daemonsets/u/b"]
    assert daemonset.related(change("/registry/pods/u/p", owned), view) == ["/registry/daemonsets/u/b"]
    assert daemonset.related(change("/registry/pods/t/q", {"metadata": {"namespace": "t"}}), view) == ["/registry/daemonsets/t/a"]
    assert daemonset.related(change("/registry/daemonsets/t/a", {}), view) == ["/registry/daemonsets/t/a"]
    assert daemonset.related(change("/registry/controllerrevisions/u/b-1", owned), view) == ["/registry/daemonsets/u/b"]
    assert daemonset.related(change("/registry/controllerrevisions/u/s-1", {"metadata": {"namespace": "u"}}), view) == []


def test_registered() -> None:
    assert daemonset.CONTROLLER in CONTROLLERS
    assert "/registry/minions/" in daemonset.CONTROLLER.watches


def _sim_ds(rolling: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "t", "uid": "ds-uid", "generation": 1},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "a", "image": "busybox:1.35"}]}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
        },
    }


@pytest.mark.parametrize("surge,unavailable,most_per_node,fewest_available", [(1, 0, 2, 4), ("50%", 0, 2, 4), (0, 1, 1, 3)])
def test_simulated_rollout_holds_its_bounds(surge: Any, unavailable: Any, most_per_node: int, fewest_available: int) -> None:
    """An image change on 4 nodes, one node action at a time in the controller's wake: with
    maxSurge and maxUnavailable 0 no node is ever without an available pod (old and new
    side by side, never more than maxSurge new ones unavailable); without surge, at most
    maxUnavailable nodes are down. The rollout ends with one new pod per node and the
    DaemonSet's two revisions recorded."""
    objects: dict[str, Any] = {f"/registry/minions/n{i}": {"kind": "Node", "metadata": {"name": f"n{i}"}, "spec": {}} for i in range(1, 5)}
    objects["/registry/daemonsets/t/agent"] = _sim_ds({"maxSurge": surge, "maxUnavailable": unavailable})
    sim = SimCluster(objects)

    def settle() -> None:
        for _ in range(50):
            run_until_quiet(sim, [daemonset.CONTROLLER])
            if not kubelet_one(sim, lambda keys: keys[0]):
                return
        raise AssertionError("did not settle")

    def check(s: SimCluster) -> None:
        pods = [p for _, p in s.items("/registry/pods/t/") if not p["metadata"].get("deletionTimestamp")]
        per_node: dict[str, int] = {}
        for p in pods:
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
        assert max(per_node.values(), default=0) <= most_per_node
        ready = {p["spec"]["nodeName"] for p in pods if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))}
        assert len(ready) >= fewest_available, per_node

    settle()
    ds = sim.get("/registry/daemonsets/t/agent")
    assert ds is not None
    ds = dict(ds, metadata=dict(ds["metadata"], generation=2))
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
    sim.put("/registry/daemonsets/t/agent", ds)
    for _ in range(200):
        run_until_quiet(sim, [daemonset.CONTROLLER], after_each=check)
        check(sim)
        if not kubelet_one(sim, lambda keys: keys[0]):
            break
        check(sim)
    pods = [p for _, p in sim.items("/registry/pods/t/")]
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["n1", "n2", "n3", "n4"]
    assert {p["spec"]["containers"][0]["image"] for p in pods} == {"busybox:1.36"}
    assert [r["revision"] for _, r in sim.items("/registry/controllerrevisions/t/")] in ([1, 2], [2, 1])
    status = (sim.get("/registry/daemonsets/t/agent") or {})["status"]
    assert status["updatedNumberScheduled"] == status["numberAvailable"] == 4


def test_rollout_undo_goes_back_through_the_revisions() -> None:
    """`kubeform rollout undo daemonset/agent` (store/rollout_sets.py) on a simulated
    cluster: the controller recorded revisions 1 (1.35) and 2 (1.36); undo writes revision
    1's template back, the controller renumbers that revision 3 instead of copying it, and
    the pods roll back to 1.35."""
    objects: dict[str, Any] = {f"/registry/minions/n{i}": {"kind": "Node", "metadata": {"name": f"n{i}"}, "spec": {}} for i in (1, 2)}
    objects["/registry/daemonsets/t/agent"] = _sim_ds({"maxSurge": 0, "maxUnavailable": 1})
    sim = SimCluster(objects)

    def settle() -> None:
        for _ in range(100):
            run_until_quiet(sim, [daemonset.CONTROLLER])
            if not kubelet_one(sim, lambda keys: keys[0]):
                return
        raise AssertionError("did not settle")

    def revisions() -> dict[str, int]:
        return {r["data"]["spec"]["template"]["spec"]["containers"][0]["image"]: r["revision"] for _, r in sim.items("/registry/controllerrevisions/t/")}

    def images() -> set[str]:
        return {p["spec"]["containers"][0]["image"] for _, p in sim.items("/registry/pods/t/")}

    settle()
    ds = copy.deepcopy(sim.get("/registry/daemonsets/t/agent"))
    assert ds is not None
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
    sim.put("/registry/daemonsets/t/agent", ds)
    settle()
    assert revisions() == {"busybox:1.35": 1, "busybox:1.36": 2} and images() == {"busybox:1.36"}
    owner = sim.get("/registry/daemonsets/t/agent")
    assert owner is not None
    crs = [r for _, r in sim.items("/registry/controllerrevisions/t/")]
    rev, cr = rollout_sets.undo_target(owner, crs)
    assert rev == 1
    undone = rollout_sets.rolled_back(owner, cr)
    assert undone is not None
    sim.put("/registry/daemonsets/t/agent", undone)
    settle()
    assert revisions() == {"busybox:1.35": 3, "busybox:1.36": 2} and images() == {"busybox:1.35"}
