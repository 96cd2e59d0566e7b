"""ReplicaSet and ReplicationController: state in, actions out
(tests/data/reconciler/controllers/replicaset/), plus whole loops on a simulated cluster.

A case file has ``view`` (etcd keys and objects; resourceVersion is the mod_revision),
``sync`` (a key), optional ``now`` (default 2026-01-01T12:00:00Z) and ``expect`` (actions
as summaries.py spells them); optional ``wake`` (seconds) and ``failed`` (an error: the
actions of the failure hook instead of sync). related.yaml lists, per change, the keys
synced again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.controllers import replicaset
from kubeform.reconciler.machinery.cache import Cache

from .casefile import (
    NOW,
    now_of,
    read,
    related_cases,
    related_ids,
    related_keys,
    sync_files,
    view_of,
)
from .simcluster import SimCluster, run_until_quiet
from .summaries import summary

SYNC_CASES = sync_files("replicaset")


_controller = replicaset.pick


@pytest.mark.parametrize("path", SYNC_CASES, ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    case = read(path)
    view, now = view_of(case), now_of(case)
    c = _controller(case["sync"])
    if "failed" in case:
        actions = c.failed(case["sync"], view, now, case["failed"])
    else:
        actions = c.sync(case["sync"], view, now)
    assert [summary(a) for a in actions] == case["expect"]
    if "wake" in case:
        assert c.wake(case["sync"], view, now) == case["wake"]


@pytest.mark.parametrize("case", related_cases("replicaset"), ids=related_ids("replicaset"))
def test_related(case: dict[str, Any]) -> None:
    assert related_keys(_controller(case.get("controller", replicaset.RS_PREFIX)).related, case) == case["expect"]


# -- whole loops ----------------------------------------------------------------------

RS_KEY = "/registry/replicasets/default/web"


def _rs(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "rs-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}},
        },
    }


def _pods(sim: SimCluster) -> list[dict[str, Any]]:
    return [p for _, p in sim.items("/registry/pods/default/")]


def test_converges_and_scales() -> None:
    sim = SimCluster({RS_KEY: _rs(120)})
    ctrls = [replicaset.CONTROLLER]
    run_until_quiet(sim, ctrls)
    assert len(_pods(sim)) == 120
    sim.kubelet()
    run_until_quiet(sim, ctrls)
    status = sim.get(RS_KEY)["status"]  # type: ignore[index]
    assert status["replicas"] == status["readyReplicas"] == status["availableReplicas"] == 120
    rs = sim.get(RS_KEY)
    assert rs is not None
    rs["spec"]["replicas"] = 7
    sim.put(RS_KEY, rs)
    run_until_quiet(sim, ctrls)
    assert sum(1 for p in _pods(sim) if not p["metadata"].get("deletionTimestamp")) == 7
    sim.kubelet()  # nodes finish the graceful deletions
    run_until_quiet(sim, ctrls)
    assert len(_pods(sim)) == 7 and sim.get(RS_KEY)["status"]["replicas"] == 7  # type: ignore[index]


def test_lost_answer_never_doubles() -> None:
    """etcd applied the creates but the answer was lost (the cache never saw them): the
    same decision, made again on the stale cache, is refused; once the watch catches up
    nothing more is created."""
    sim = SimCluster({RS_KEY: _rs(3)})
    actions = replicaset.sync(RS_KEY, sim.cache, sim.now)
    assert sim.txn(actions, lose_answer=True)
    again = replicaset.sync(RS_KEY, sim.cache, sim.now)
    assert [summary(a) for a in again] == [summary(a) for a in actions]
    assert not sim.txn(again)  # the owner's fence (and the names) refuse it
    sim.refresh()
    run_until_quiet(sim, [replicaset.CONTROLLER])
    assert len(_pods(sim)) == 3


def test_restart_with_a_fresh_cache_converges_to_the_same_pods() -> None:
    sim = SimCluster({RS_KEY: _rs(4)})
    run_until_quiet(sim, [replicaset.CONTROLLER])
    names = sorted(p["metadata"]["name"] for p in _pods(sim))
    restarted = SimCluster({k: o for k, (o, _) in sim.store.items()})
    run_until_quiet(restarted, [replicaset.CONTROLLER])
    assert sorted(p["metadata"]["name"] for p in _pods(restarted)) == names


def test_burst_caps_one_transaction() -> None:
    rs = _rs(60)
    view = Cache.from_objects({RS_KEY: dict(rs, metadata=dict(rs["metadata"], resourceVersion="3"))})
    actions = replicaset.sync(RS_KEY, view, NOW)
    assert sum(1 for a in actions if type(a).__name__ == "Create") == replicaset.BURST
    assert len(actions) <= 128  # etcd's default --max-txn-ops
