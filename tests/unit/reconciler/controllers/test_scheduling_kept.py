"""The kept Snapshot gives the decisions a fresh one gives, whatever the cache went through.

A seeded random walk of cache changes (pods bound, moved, finished, deleted, recreated under
the same name; nodes added and relabelled; heartbeat leases appearing, renewed, gone; a
relist) and, after each, the decision for every pending pod from ``decide`` (kept Snapshot,
caught up from the change log) and from a Snapshot built from scratch must be equal.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest

from kubeform.reconciler.controllers import scheduling
from kubeform.reconciler.machinery.cache import Cache, Item
from kubeform.reconciler.scheduler import Snapshot

from .casefile import NOW


def _node(name: str, zone: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {"zone": zone}},
            "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "6"}}}


def _lease(name: str, second: int) -> dict[str, Any]:
    return {"spec": {"holderIdentity": name, "renewTime": f"2026-01-01T11:59:{second:02d}Z", "leaseDurationSeconds": 40}}


def _pod(name: str, uid: str, node: str | None = None, cpu: str = "300m", phase: str = "Pending",
         selector: dict[str, str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "x", "resources": {"requests": {"cpu": cpu}}}]}
    if node:
        spec["nodeName"] = node
    if selector:
        spec["nodeSelector"] = selector
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": uid,
            "labels": {"app": name[:1]}}, "spec": spec, "status": {"phase": phase}}


def test_kept_snapshot_decides_as_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    built = [0]

    class Counted(Snapshot):
        def __init__(self, *args: Any) -> None:
            built[0] += 1
            super().__init__(*args)

    monkeypatch.setattr(scheduling, "Snapshot", Counted)
    rnd = random.Random(7)
    cache = Cache()
    rev = 1

    def put(key: str, obj: dict[str, Any] | None) -> None:
        nonlocal rev
        rev += 1
        cache.write_through(key, obj, rev)

    for i in range(4):
        put(f"/registry/minions/n{i}", _node(f"n{i}", "a" if i % 2 else "b"))
        put(f"/registry/leases/kube-node-lease/n{i}", _lease(f"n{i}", 50))
    pending = [f"/registry/pods/default/p{i}" for i in range(3)]
    put(pending[0], _pod("p0", "up0"))
    put(pending[1], _pod("p1", "up1", cpu="900m"))
    put(pending[2], _pod("p2", "up2", selector={"zone": "a"}))
    uid = 0
    fresh_builds = 0
    for step in range(300):
        op = rnd.random()
        name = f"b{rnd.randrange(12)}"
        key = f"/registry/pods/default/{name}"
        node = f"n{rnd.randrange(5)}"  # n4 does not exist: a pod bound to an unknown node
        if op < 0.45:
            uid += 1
            put(key, _pod(name, f"u{uid}", node, cpu=rnd.choice(["100m", "500m", "1"])))
        elif op < 0.55:
            item = cache.get(key)
            if item is not None:
                put(key, dict(item.obj, status={"phase": rnd.choice(["Succeeded", "Running"])}))
        elif op < 0.7:
            put(key, None)
        elif op < 0.78:
            n = rnd.randrange(6)
            put(f"/registry/leases/kube-node-lease/n{n}", None if rnd.random() < 0.5 else _lease(f"n{n}", rnd.randrange(30, 60)))
        elif op < 0.84:
            n = rnd.randrange(6)
            put(f"/registry/minions/n{n}", _node(f"n{n}", rnd.choice("ab")))
        elif op < 0.9:
            # a relist: the informer replaces the pods with what etcd has (here: the same
            # minus one), as after a compaction
            items = [i for i in cache.list("/registry/pods/") if i.key != key]
            rev += 1
            cache.replace("/registry/pods/", [Item(i.key, i.obj, i.mod_revision) for i in items], rev)
        now = NOW + datetime.timedelta(seconds=step // 20)
        for p in pending:
            item = cache.get(p)
            assert item is not None
            kept = scheduling.decide(cache, item.obj, now)
            fresh = scheduling.build_snapshot(cache, now)[1].schedule(item.obj)
            fresh_builds += 1
            assert kept == fresh, f"step {step}: {p}"
    # the point of keeping it: most decisions catch up instead of rebuilding
    rebuilds = built[0] - fresh_builds
    assert 0 < rebuilds < 150, rebuilds


def test_a_lost_log_rebuilds() -> None:
    cache = Cache()
    cache.write_through("/registry/minions/n0", _node("n0", "a"), 2)
    cache.write_through("/registry/leases/kube-node-lease/n0", _lease("n0", 59), 3)
    pod = _pod("p", "u")
    assert scheduling.decide(cache, pod, NOW).node == "n0"
    generation = cache.generation
    assert cache.changes_since(generation) == (generation, [])
    assert cache.changes_since(generation + 5)[1] is None
