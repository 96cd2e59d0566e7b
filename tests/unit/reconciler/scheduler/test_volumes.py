"""Persistent volumes and the scheduler: tests/data/scheduler/volumes.yaml, decided both by
the scheduling controller (claims, volumes and classes read from its cache; the chosen
node written on WaitForFirstConsumer claims) and by filters.reasons node by node."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import yaml

from kubeform.api import nodes as nodesmod
from kubeform.reconciler.controllers import scheduling
from kubeform.reconciler.machinery.actions import Put
from kubeform.reconciler.machinery.cache import Cache
from kubeform.reconciler.scheduler import filters, volumes
from kubeform.reconciler.scheduler.nodeinfo import NodeInfo
from kubeform.reconciler.scheduler.podview import pod_view

from .cases import DATA, node, pod

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
CASES = yaml.safe_load((DATA / "volumes.yaml").read_text())
Obj = dict[str, Any]


def _objects(case: Obj) -> dict[str, Obj]:
    objects: dict[str, Obj] = {}
    for spec in case["nodes"]:
        n = node(spec)
        objects[nodesmod.NODE_PREFIX + spec["name"]] = n
        if spec.get("ready", True) is True:
            objects[nodesmod.LEASE_PREFIX + spec["name"]] = {
                "spec": {"holderIdentity": spec["name"], "leaseDurationSeconds": 40, "renewTime": "2026-01-01T11:59:59.000000Z"}}
    for p in case.get("pods") or []:
        objects[f"/registry/pods/default/{p['name']}"] = pod(p)
    for name, c in (case.get("claims") or {}).items():
        meta: Obj = {"name": name, "namespace": "default", "uid": "uid-" + name, "resourceVersion": "7"}
        if c.get("node"):
            meta["annotations"] = {volumes.SELECTED_NODE: c["node"]}
        if c.get("deleting"):
            meta["deletionTimestamp"] = "2026-01-01T11:00:00Z"
        spec: Obj = {"storageClassName": c.get("class", "local-path")}
        if c.get("volume"):
            spec["volumeName"] = c["volume"]
        objects[f"/registry/persistentvolumeclaims/default/{name}"] = {"metadata": meta, "spec": spec}
    for name, where in (case.get("volumes") or {}).items():
        vspec: Obj = {"hostPath": {"path": "/v/" + name}}
        if where:
            vspec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": [where]}]}]}}
        objects[f"/registry/persistentvolumes/{name}"] = {"metadata": {"name": name}, "spec": vspec}
    for name, mode in (case.get("classes") or {}).items():
        objects[f"/registry/storageclasses/{name}"] = {"metadata": {"name": name}, "provisioner": "example.com/x", "volumeBindingMode": mode}
    p = pod(case["pod"])
    p["metadata"]["resourceVersion"] = "9"
    p["spec"]["volumes"] = [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(case["pod"].get("claims") or [])]
    objects[f"/registry/pods/default/{case['pod']['name']}"] = p
    return objects


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_scheduling_controller(case: Obj) -> None:
    view = Cache.from_objects(_objects(case))
    key = f"/registry/pods/default/{case['pod']['name']}"
    actions = scheduling.sync(key, view, NOW)
    pod_put = next(a for a in actions if isinstance(a, Put) and a.key == key)
    if isinstance(case["expect"], str):
        assert pod_put.obj["spec"]["nodeName"] == case["expect"]
    else:
        assert "nodeName" not in pod_put.obj["spec"]
        assert pod_put.obj["status"]["conditions"][0]["message"] == case["expect"]["message"]
    selected = [a for a in actions if isinstance(a, Put) and a.key != key]
    assert [a.key.rsplit("/", 1)[1] for a in selected] == case.get("select", [])
    for a in selected:
        assert a.obj["metadata"]["annotations"][volumes.SELECTED_NODE] == case["expect"]
        assert a.expect_mod_revision == 7


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c["expect"], str)], ids=lambda c: c["name"])
def test_filter_node_by_node(case: Obj) -> None:
    """filters.reasons agrees: the chosen node passes; with the volume filter alone, every
    node but the volume's is refused with Kubernetes' words."""
    view = Cache.from_objects(_objects(case))
    p = view.get(f"/registry/pods/default/{case['pod']['name']}").obj  # type: ignore[union-attr]
    check = scheduling.volume_check(view, p)
    pv = pod_view(p, check.terms)
    for n in scheduling.node_views(view, NOW):
        info = NodeInfo(n)
        verdict = filters.volume_affinity(pv, info)
        if info.name == case["expect"]:
            assert filters.reasons(pv, info) == [] and verdict is None
        elif check.terms:
            assert verdict == filters.VOLUME_CONFLICT
