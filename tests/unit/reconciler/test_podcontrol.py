"""podcontrol: pods from templates, claiming (adopt/release) and deletion order (case files)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import selectors
from kubeform.reconciler.machinery.actions import Create, Put
from kubeform.reconciler.machinery.cache import Item
from kubeform.reconciler.podcontrol import claim, create_pod, deletion_order, pod_from_template

CASES = Path(__file__).resolve().parents[2] / "data" / "reconciler" / "podcontrol"
NOW = datetime.datetime(2026, 1, 1, 0, 10, tzinfo=datetime.UTC)


def _pod(spec: dict[str, Any]) -> Item:
    meta: dict[str, Any] = {"name": spec["name"], "namespace": "default", "labels": spec.get("labels", {})}
    if "owner" in spec:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": "x", "uid": spec["owner"], "controller": True}]
    if spec.get("deleting"):
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if "created" in spec:
        meta["creationTimestamp"] = spec["created"]
    status: dict[str, Any] = {"phase": spec.get("phase", "Pending")}
    if "ready" in spec:
        status["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": spec["ready"]}]
    if "restarts" in spec:
        status["containerStatuses"] = [{"name": "c", "restartCount": spec["restarts"]}]
    pod_spec = {"nodeName": spec["node"]} if "node" in spec else {}
    return Item("/registry/pods/default/" + spec["name"], {"metadata": meta, "spec": pod_spec, "status": status}, 5)


def _cases(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((CASES / name).read_text()))


@pytest.mark.parametrize("case", _cases("claim.yaml"), ids=lambda c: c["name"])
def test_claim(case: dict[str, Any]) -> None:
    owner_meta: dict[str, Any] = {"name": "web", "namespace": "default", "uid": case["owner"]["uid"]}
    if case["owner"].get("deleting"):
        owner_meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": owner_meta}
    sel = selectors.from_map(case["selector"])
    owned, actions = claim(owner, lambda p: selectors.matches(sel, p["metadata"].get("labels")), [_pod(p) for p in case["pods"]])
    assert [i.obj["metadata"]["name"] for i in owned] == case["owned"]
    puts = [a for a in actions if isinstance(a, Put)]
    adopted = [a.obj["metadata"]["name"] for a in puts if any(r["uid"] == case["owner"]["uid"] for r in a.obj["metadata"].get("ownerReferences", []))]
    released = [a.obj["metadata"]["name"] for a in puts if a.obj["metadata"]["name"] not in adopted]
    assert adopted == case["adopt"]
    assert released == case["release"]
    assert all(a.expect_mod_revision == 5 for a in puts)


@pytest.mark.parametrize("case", _cases("deletion-order.yaml"), ids=lambda c: c["name"])
def test_deletion_order(case: dict[str, Any]) -> None:
    got = deletion_order([_pod(p) for p in case["pods"]], NOW)
    assert [i.obj["metadata"]["name"] for i in got] == case["order"]


def test_pod_from_template() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-5d8f9", "namespace": "demo", "uid": "u1"}}
    template = {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    pod = pod_from_template(owner, template, extra_labels={"pod-template-hash": "5d8f9"})
    assert pod["metadata"] == {
        "namespace": "demo",
        "generateName": "web-5d8f9-",
        "labels": {"app": "web", "pod-template-hash": "5d8f9"},
        "annotations": {"a": "1"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f9", "uid": "u1", "controller": True, "blockOwnerDeletion": True}],
    }
    assert pod["spec"] == template["spec"] and pod["spec"] is not template["spec"]
    assert create_pod(pod) == Create("/registry/pods/", pod)
    named = pod_from_template(owner, template, name="kv-0")
    assert named["metadata"]["name"] == "kv-0" and "generateName" not in named["metadata"]


def test_selects_matches_labels_and_an_empty_or_invalid_selector_selects_nothing() -> None:
    from kubeform.reconciler.podcontrol import selects

    web = {"metadata": {"labels": {"app": "web"}}}
    assert selects({"spec": {"selector": {"matchLabels": {"app": "web"}}}})(web)
    assert not selects({"spec": {"selector": {"matchLabels": {"app": "db"}}}})(web)
    assert not selects({"spec": {"selector": {}}})(web)
    assert not selects({"spec": {}})(web)
    assert not selects({"spec": {"selector": {"matchExpressions": [{"key": "app", "operator": "Bogus"}]}}})(web)
