"""The HPA controller over several steps: case files in, scale and status out
(tests/data/reconciler/controllers/autoscaler/).

A case names the HPA's spec (``hpa``; it targets Deployment ``web`` in ``default`` unless
``target`` says otherwise), the target (kind, replicas), and ``steps``. Each step happens
``at`` seconds after 2026-01-01T12:00:00Z (``targetReplicas`` first sets the target's
spec.replicas, as a user would) with the pods it lists in a shorthand (name,
cpu and memory measured 5 s before the step over a 15 s window, requests, phase, Ready,
started long ago unless ``started`` says how many seconds before the step), runs one sync
of the HPA, checks the keys its ``expect`` gives (scale: the target's new spec.replicas or
null; current, desired, metrics, conditions as "Status Reason", events as "Type Reason:
message", write: whether the HPA was written, recommendations) and then stores what the
sync wrote, as the writer would, so the next step sees it (history included).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import quantity
from kubeform.api.events import rfc3339
from kubeform.reconciler.autoscaling import history
from kubeform.reconciler.controllers import CONTROLLERS, autoscaler, watched_prefixes
from kubeform.reconciler.machinery.actions import CreateEvent, Put
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .casefile import DATA

CASES = DATA / "autoscaler"
T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
HPA_KEY = "/registry/horizontalpodautoscalers/default/web"
PREFIX = {"Deployment": "deployments", "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
          "ReplicationController": "replicationcontrollers"}


def _t(seconds: float) -> str:
    return rfc3339(T0 + datetime.timedelta(seconds=seconds))


def pod(p: dict[str, Any], at: float) -> dict[str, Any]:
    """A pod from the shorthand, as the agent would have written it at ``at``."""
    containers = p.get("containers") or [{"name": "c", "cpu": p.get("cpu"), "memory": p.get("memory"),
                                           "requests": p.get("requests", {"cpu": "100m"})}]
    started = at - p.get("started", 3600)
    status: dict[str, Any] = {"phase": p.get("phase", "Running"), "startTime": _t(started)}
    ready = p.get("ready", True)
    status["conditions"] = [{"type": "Ready", "status": "True" if ready else "False",
                             "lastTransitionTime": _t(at - p.get("readySince", 3600) if ready else started)}]
    if any(c.get("cpu") is not None or c.get("memory") is not None for c in containers) and not p.get("noMetrics"):
        stamp = at - p.get("usageAge", 5)
        window = p.get("window", 15)
        cpu = sum(quantity.cpu_millis(c["cpu"]) for c in containers if c.get("cpu") is not None)
        mem = sum(quantity.amount(c["memory"]) for c in containers if c.get("memory") is not None)
        usage: dict[str, Any] = {"timestamp": _t(stamp), "window": f"{window}s", "memory": f"{mem // 1024}Ki",
                                 "containers": [{"name": c["name"], "cpu": c.get("cpu"), "memory": c.get("memory")}
                                                for c in containers]}
        if window and any(c.get("cpu") is not None for c in containers):
            usage["cpu"] = f"{cpu}m"
        status["usage"] = usage
    meta: dict[str, Any] = {"name": p["name"], "namespace": "default", "uid": "u-" + p["name"],
                            "labels": p.get("labels", {"app": "web"})}
    if p.get("deleting"):
        meta["deletionTimestamp"] = _t(at - 1)
    spec = {"nodeName": "kf-node1", "containers": [
        {"name": c["name"], "image": "busybox",
         **({"resources": {"requests": c["requests"]}} if c.get("requests") else {})} for c in containers]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}


def initial(case: dict[str, Any]) -> dict[str, Any]:
    target = {"kind": "Deployment", "name": "web", "replicas": 3, **(case.get("target") or {})}
    kind = target["kind"]
    tobj: dict[str, Any] = {
        "apiVersion": "v1" if kind == "ReplicationController" else "apps/v1", "kind": kind,
        "metadata": {"name": target["name"], "namespace": "default", "uid": "u-target", "resourceVersion": "10"},
        "spec": {"replicas": target["replicas"],
                 "selector": {"app": "web"} if kind == "ReplicationController" else {"matchLabels": {"app": "web"}}},
    }
    if target.get("noSelector"):
        del tobj["spec"]["selector"]
    hpa_spec = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 10, **case["hpa"]}
    hpa: dict[str, Any] = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                           "metadata": {"name": "web", "namespace": "default", "uid": "u-hpa", "resourceVersion": "20"},
                           "spec": hpa_spec}
    if case.get("hpaStatus"):
        hpa["status"] = case["hpaStatus"]
    objects = {HPA_KEY: hpa}
    if not target.get("absent"):
        objects[f"/registry/{PREFIX.get(kind, kind.lower())}/default/{target['name']}"] = tobj
    return objects


def summary(actions: list[Any], target_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {"scale": None, "write": False, "events": []}
    for a in actions:
        if isinstance(a, Put) and a.key == HPA_KEY:
            out["write"] = True
            st = a.obj.get("status") or {}
            out["current"] = st.get("currentReplicas")
            out["desired"] = st.get("desiredReplicas")
            out["metrics"] = st.get("currentMetrics")
            out["lastScaleTime"] = st.get("lastScaleTime")
            out["conditions"] = {c["type"]: f"{c['status']} {c['reason']}" for c in st.get("conditions") or []}
            out["messages"] = {c["type"]: c["message"] for c in st.get("conditions") or []}
            h = history.load(a.obj)
            out["recommendations"] = [[n, int((t - T0).total_seconds())] for n, t in h.recommendations]
            out["scaleEvents"] = {"up": [[n, int((t - T0).total_seconds())] for n, t in h.scale_up],
                                  "down": [[n, int((t - T0).total_seconds())] for n, t in h.scale_down]}
        elif isinstance(a, Put) and a.key == target_key:
            out["scale"] = a.obj["spec"]["replicas"]
        elif isinstance(a, CreateEvent):
            assert a.component == "horizontal-pod-autoscaler"
            out["events"].append(f"{a.event_type} {a.reason}: {a.message}")
        else:
            raise AssertionError(f"unexpected action {a}")
    return out


SYNC_CASES = sorted(p for p in CASES.glob("*.yaml") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", SYNC_CASES, ids=lambda p: p.stem)
def test_steps(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    objects = initial(case)
    target_key = next((k for k in objects if k != HPA_KEY), "")
    cache = Cache.from_objects(objects)
    revision = 100
    pods: list[dict[str, Any]] = []
    for i, step in enumerate(case["steps"]):
        at = float(step.get("at", 0))
        now = T0 + datetime.timedelta(seconds=at)
        if "targetReplicas" in step:
            t = cache.get(target_key)
            revision += 1
            cache.write_through(target_key, {**t.obj, "spec": {**t.obj["spec"], "replicas": step["targetReplicas"]}}, revision)
        if "pods" in step:
            for p in pods:
                revision += 1
                cache.write_through(f"/registry/pods/default/{p['name']}", None, revision)
            pods = step["pods"]
        for p in pods:
            revision += 1
            cache.write_through(f"/registry/pods/default/{p['name']}", pod(p, at), revision)
        actions = autoscaler.sync(HPA_KEY, cache, now)
        got = summary(actions, target_key)
        want = step["expect"]
        assert {k: got.get(k) for k in want} == want, f"step {i} (at {at:g} s)"
        for a in actions:
            if isinstance(a, Put):
                assert cache.get(a.key).mod_revision == a.expect_mod_revision
                revision += 1
                cache.write_through(a.key, json.loads(json.dumps(a.obj)), revision)


def test_related_wakes_only_hpas() -> None:
    view = Cache.from_objects({})
    item = Item(HPA_KEY, {"kind": "HorizontalPodAutoscaler"}, 1)
    assert autoscaler.related(Change(HPA_KEY, None, item), view) == [HPA_KEY]
    pod_key = "/registry/pods/default/p"
    assert autoscaler.related(Change(pod_key, None, Item(pod_key, {}, 1)), view) == []


def test_registered() -> None:
    assert autoscaler.CONTROLLER in CONTROLLERS
    prefixes = watched_prefixes(CONTROLLERS)
    for p in ("/registry/horizontalpodautoscalers/", "/registry/deployments/", "/registry/statefulsets/"):
        assert p in prefixes
