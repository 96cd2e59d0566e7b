"""The StatefulSet controller: state in, actions out (tests/data/reconciler/controllers/statefulset/).

Every case starts from _base.yaml (web: 3 replicas, serviceName nginx, a claim template
www) with its own pods, claims and revisions, syncs the set at 2026-01-01T12:00:00Z and
lists what it writes, summarised as one line per action (events left out).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from kubeform.reconciler.controllers import revisions, statefulset
from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .casefile import DATA, NOW

CASES = DATA / "statefulset"
KEY = "/registry/statefulsets/default/web"
OLD_TEMPLATE = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.35"}]}}

Obj = dict[str, Any]


def _merge(base: Obj, extra: Obj) -> Obj:
    out = copy.deepcopy(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def _sts(case: Obj) -> Obj:
    sts = yaml.safe_load((CASES / "_base.yaml").read_text())
    sts["spec"] = _merge(sts["spec"], case.get("sts") or {})
    if case.get("deleting"):
        sts["metadata"]["deletionTimestamp"] = "2026-01-01T11:00:00Z"
    if case.get("status_before"):
        sts["status"] = copy.deepcopy(case["status_before"])
    return sts


def _pod(spec: Obj, sts: Obj, revs: dict[str, str]) -> Obj:
    name = f"web-{spec['n']}"
    labels = {"app": "web", statefulset.POD_NAME_LABEL: name, statefulset.POD_INDEX_LABEL: str(spec["n"]),
              statefulset.REVISION_LABEL: revs[spec.get("rev", "update")]}
    meta: Obj = {"name": name, "namespace": "default", "uid": "uid-" + name, "labels": labels, "resourceVersion": "5",
                 "creationTimestamp": "2026-01-01T10:00:00Z"}
    if not spec.get("orphan"):
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-uid", "controller": True}]
    if spec.get("deleting"):
        meta["deletionTimestamp"] = "2026-01-01T11:59:00Z"
    phase = spec.get("phase", "Running")
    ready = spec.get("ready", phase == "Running")
    status: Obj = {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                   "lastTransitionTime": "2026-01-01T11:00:00Z"}]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
            "spec": {"nodeName": spec.get("node", "kf-node1"), "hostname": name, "subdomain": "nginx", "containers": []},
            "status": status}


def _revision(name: str, template: Obj, number: int) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": "default", "resourceVersion": "3",
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "sts-uid", "controller": True}]},
            "data": revisions.revision_data(template), "revision": number}


def build(case: Obj) -> tuple[Cache, dict[str, str]]:
    sts = _sts(case)
    update = statefulset.revision_name(sts)
    revs = {"update": update, "current": "web-old"}
    objects: dict[str, Obj] = {}
    if case.get("old_revision"):
        objects["/registry/controllerrevisions/default/web-old"] = _revision("web-old", OLD_TEMPLATE, 1)
        sts.setdefault("status", {})["currentRevision"] = update if case.get("current_is_update") else "web-old"
    if case.get("update_revision", True):
        objects[f"/registry/controllerrevisions/default/{update}"] = _revision(update, sts["spec"]["template"], 2)
    objects[KEY] = sts
    for p in case.get("pods") or []:
        objects[f"/registry/pods/default/web-{p['n']}"] = _pod(p, sts, revs)
    for c in case.get("claims") or []:
        objects[f"/registry/persistentvolumeclaims/default/{c}"] = {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": c, "namespace": "default", "resourceVersion": "4"},
            "spec": {"storageClassName": "local-path"}}
    return Cache.from_objects(objects), revs


def summary(action: Action, revs: dict[str, str]) -> str | None:
    names = {v: k for k, v in revs.items()}
    if isinstance(action, CreateEvent):
        return None
    if isinstance(action, Create):
        obj = action.obj
        name = obj["metadata"]["name"]
        if obj["kind"] == "Pod":
            rev = obj["metadata"]["labels"][statefulset.REVISION_LABEL]
            return f"create pod {name} rev={names.get(rev, rev)}"
        if obj["kind"] == "ControllerRevision":
            return f"create revision {'update' if name == revs['update'] else name}"
        return f"create claim {name}"
    kind = {"pods": "pod", "persistentvolumeclaims": "claim", "controllerrevisions": "revision"}.get(action.key.split("/")[2], "?")
    name = action.key.rsplit("/", 1)[1]
    if isinstance(action, Delete):
        return f"delete {kind} {'update' if name == revs['update'] else name}"
    assert isinstance(action, Put)
    if action.key == KEY:
        return "status"
    if kind == "pod" and action.obj["metadata"].get("deletionTimestamp") and action.obj["metadata"].get("deletionGracePeriodSeconds") is not None:
        return f"terminate pod {name}"
    return f"update {kind} {name}"


def _cases() -> list[tuple[str, Obj]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        for case in yaml.safe_load(path.read_text()):
            out.append((f"{path.stem}/{case['name']}", case))
    return out


CASE_LIST = _cases()


@pytest.mark.parametrize("case", [c for _, c in CASE_LIST], ids=[n for n, _ in CASE_LIST])
def test_sync(case: Obj) -> None:
    view, revs = build(case)
    actions = statefulset.sync(KEY, view, NOW)
    got = [s for s in (summary(a, revs) for a in actions) if s is not None and s != "status"]
    assert got == case["actions"]
    if "status" in case:
        puts = [a for a in actions if isinstance(a, Put) and a.key == KEY]
        assert puts, "no status written"
        want = {k: (revs.get(v, v) if k in ("currentRevision", "updateRevision") else v) for k, v in case["status"].items()}
        assert puts[0].obj["status"] == want


def test_new_pod_identity_and_claim() -> None:
    """Pod 1: name, hostname, subdomain, labels, the claim mounted in place of the template's volume."""
    view, revs = build({"pods": [{"n": 0}]})
    actions = statefulset.sync(KEY, view, NOW)
    pod = next(a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "Pod")
    claim = next(a.obj for a in actions if isinstance(a, Create) and a.obj["kind"] == "PersistentVolumeClaim")
    assert pod["metadata"]["name"] == "web-1"
    assert pod["spec"]["hostname"] == "web-1" and pod["spec"]["subdomain"] == "nginx"
    assert pod["metadata"]["labels"] == {"app": "web", "statefulset.kubernetes.io/pod-name": "web-1",
                                         "apps.kubernetes.io/pod-index": "1", "controller-revision-hash": revs["update"]}
    assert pod["metadata"]["ownerReferences"][0]["uid"] == "sts-uid"
    assert pod["spec"]["volumes"] == [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-1"}}]
    assert claim["metadata"] == {"name": "www-web-1", "namespace": "default", "labels": {"app": "web"}}
    assert claim["spec"]["storageClassName"] == "local-path" and claim["spec"]["resources"] == {"requests": {"storage": "1Gi"}}
    reasons = [(a.reason, a.message) for a in actions if isinstance(a, CreateEvent)]
    assert reasons == [("SuccessfulCreate", "create Claim www-web-1 Pod web-1 in StatefulSet web success"),
                       ("SuccessfulCreate", "create Pod web-1 in StatefulSet web successful")]


def test_terminate_is_graceful() -> None:
    view, _ = build({"sts": {"replicas": 2}, "pods": [{"n": 0}, {"n": 1}, {"n": 2}]})
    put = next(a for a in statefulset.sync(KEY, view, NOW) if isinstance(a, Put) and a.key.endswith("web-2"))
    assert put.obj["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:30Z"
    assert put.obj["metadata"]["deletionGracePeriodSeconds"] == 30
    assert put.expect_mod_revision == 5


def test_converges_without_repeating() -> None:
    """Applying a sync's writes and syncing again never writes the same status twice."""
    view, _ = build({"pods": [{"n": 0}, {"n": 1}, {"n": 2}]})
    first = statefulset.sync(KEY, view, NOW)
    for a in first:
        if isinstance(a, Put):
            view.write_through(a.key, a.obj, 100)
        elif isinstance(a, Create):
            meta = a.obj["metadata"]
            view.write_through(f"{a.prefix}{meta['namespace']}/{meta['name']}", dict(a.obj, metadata=dict(meta, uid="u")), 100)
    assert statefulset.sync(KEY, view, NOW) == []


@pytest.mark.parametrize(
    ("key", "obj", "expect"),
    [
        ("/registry/pods/default/web-0", {"metadata": {"name": "web-0", "ownerReferences": [{"kind": "StatefulSet", "name": "web", "uid": "x", "controller": True}]}}, [KEY]),
        ("/registry/pods/default/web-0", {"metadata": {"name": "web-0", "labels": {"app": "web"}}}, [KEY]),
        ("/registry/pods/default/other", {"metadata": {"name": "other", "labels": {"app": "db"}}}, []),
        ("/registry/pods/default/x", {"metadata": {"name": "x", "ownerReferences": [{"kind": "ReplicaSet", "name": "r", "uid": "y", "controller": True}]}}, []),
        ("/registry/persistentvolumeclaims/default/www-web-7", {"metadata": {"name": "www-web-7"}}, [KEY]),
        ("/registry/persistentvolumeclaims/default/data", {"metadata": {"name": "data"}}, []),
        (KEY, {"metadata": {"name": "web"}}, [KEY]),
    ],
)
def test_related(key: str, obj: Obj, expect: list[str]) -> None:
    view, _ = build({"pods": []})
    assert statefulset.related(Change(key, None, Item(key, obj, 9)), view) == expect
