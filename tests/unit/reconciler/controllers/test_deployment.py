"""Deployment: state in, actions out (tests/data/reconciler/controllers/deployment/), and
rollouts simulated step by step with the ReplicaSet controller and nodes, the surge and
unavailability bounds checked on the pods after every single write.

Case files as test_replicaset.py's: ``view``, ``sync``, optional ``now`` and ``wake``,
``expect`` (summaries.py).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest

from kubeform.api.rollout import REVISION, REVISION_HISTORY
from kubeform.reconciler.controllers import deployment, replicaset

from .casefile import now_of, read, related_cases, related_ids, related_keys, sync_files, view_of
from .simcluster import SimCluster, kubelet_one, run_until_quiet
from .summaries import summary

SYNC_CASES = sync_files("deployment")
KEY = "/registry/deployments/default/web"
CONTROLLERS = [deployment.CONTROLLER, replicaset.CONTROLLER]


@pytest.mark.parametrize("path", SYNC_CASES, ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    case = read(path)
    view, now = view_of(case), now_of(case)
    assert [summary(a) for a in deployment.sync(case["sync"], view, now)] == case["expect"]
    if "wake" in case:
        assert deployment.wake(case["sync"], view, now) == case["wake"]


@pytest.mark.parametrize("case", related_cases("deployment"), ids=related_ids("deployment"))
def test_related(case: dict[str, Any]) -> None:
    assert related_keys(deployment.related, case) == case["expect"]


# -- simulated rollouts ------------------------------------------------------------------


def _deploy(replicas: int, surge: Any, unavailable: Any, image: str = "busybox:latest", strategy: str = "RollingUpdate") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "strategy": {"type": strategy},
        "revisionHistoryLimit": 2,
        "progressDeadlineSeconds": 600,
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}},
    }
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 1},
        "spec": spec,
    }


def _pods(sim: SimCluster) -> list[dict[str, Any]]:
    return [p for _, p in sim.items("/registry/pods/default/")]


def _active(sim: SimCluster) -> list[dict[str, Any]]:
    return [p for p in _pods(sim) if not p["metadata"].get("deletionTimestamp")]


def _available(sim: SimCluster) -> int:
    return sum(
        1 for p in _active(sim) if any(c["type"] == "Ready" and c["status"] == "True" for c in p.get("status", {}).get("conditions", []))
    )


def _images(sim: SimCluster) -> set[str]:
    return {p["spec"]["containers"][0]["image"] for p in _active(sim)}


def _change_image(sim: SimCluster, image: str) -> None:
    d = copy.deepcopy(sim.get(KEY))
    assert d is not None
    d["spec"]["template"]["spec"]["containers"][0]["image"] = image
    d["metadata"]["generation"] += 1
    sim.put(KEY, d)


def _settle(sim: SimCluster) -> None:
    for _ in range(100):
        run_until_quiet(sim, CONTROLLERS)
        sim.kubelet()
        if run_until_quiet(sim, CONTROLLERS) == 0:
            return
    raise AssertionError("did not settle")


def _random_rollout(sim: SimCluster, rng: random.Random, bounds: tuple[int, int], steps: int = 5000) -> int:
    """Controllers' syncs and nodes' actions in a random order, each one at a time, until
    nothing is left to do; checks (most pods, fewest available) after every step."""
    most, fewest = bounds
    worst = [0, 10**6]

    def check() -> None:
        n, a = len(_active(sim)), _available(sim)
        worst[0] = max(worst[0], n)
        worst[1] = min(worst[1], a)
        assert n <= most, f"{n} pods > {most}"
        assert a >= fewest, f"{a} available < {fewest}"

    quiet = 0
    for step in range(steps):
        sim.tick(1)
        if rng.random() < 0.4:
            did = kubelet_one(sim, rng.choice)
        else:
            c = rng.choice(CONTROLLERS)
            keys = sim.cache.keys(c.primary)
            did = False
            if keys:
                actions = c.sync(rng.choice(keys), sim.cache, sim.now)
                did = bool(actions) and sim.txn(actions)
        check()
        if did:
            quiet = 0
            continue
        quiet += 1
        # nothing happened a few times: done when every controller is quiet on every key
        # and no pod needs its node
        if quiet >= 5 and all(not c.sync(k, sim.cache, sim.now) for c in CONTROLLERS for k in sim.cache.keys(c.primary)):
            if not kubelet_one(sim, lambda todo: todo[0]):
                return step
            check()
    raise AssertionError("rollout did not finish")


@pytest.mark.parametrize(
    ("replicas", "surge", "unavailable", "most", "fewest"),
    [
        (10, 1, 0, 11, 10),
        (10, 0, 1, 10, 9),
        (10, "25%", "25%", 13, 8),  # surge rounds up (2.5 -> 3), unavailable down (2.5 -> 2)
        (3, 1, 1, 4, 2),
        (5, "50%", 0, 8, 5),
        (4, 0, "30%", 4, 3),
        (1, 0, 0, 1, 0),  # both 0: one may be unavailable (Kubernetes' rule)
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_rolling_update_bounds_at_every_step(replicas: int, surge: Any, unavailable: Any, most: int, fewest: int, seed: int) -> None:
    rng = random.Random(seed)
    sim = SimCluster({KEY: _deploy(replicas, surge, unavailable)})
    _settle(sim)
    assert len(_active(sim)) == replicas == _available(sim)
    _change_image(sim, "busybox:1.36")
    _random_rollout(sim, rng, (most, fewest))
    assert _images(sim) == {"busybox:1.36"} and len(_active(sim)) == replicas == _available(sim)
    d = sim.get(KEY)
    assert d is not None
    st = d["status"]
    assert (st.get("replicas"), st.get("updatedReplicas"), st.get("availableReplicas")) == (replicas, replicas, replicas)
    assert st.get("unavailableReplicas") is None
    progressing = next(c for c in st["conditions"] if c["type"] == "Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"
    assert d["metadata"]["annotations"][REVISION] == "2"


def _rs_by_image(sim: SimCluster) -> dict[str, dict[str, Any]]:
    return {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs for _, rs in sim.items("/registry/replicasets/default/")}


def test_history_limit_and_rollback_revisions() -> None:
    """revisionHistoryLimit 2 keeps two old ReplicaSets; going back to an old template
    reuses its ReplicaSet, which takes the next revision and records the old one."""
    sim = SimCluster({KEY: _deploy(3, 1, 0)})
    _settle(sim)
    for image in ("busybox:1.36", "busybox:1.35", "busybox:1.34"):
        _change_image(sim, image)
        _settle(sim)
    rs = _rs_by_image(sim)
    assert sorted(rs) == ["busybox:1.34", "busybox:1.35", "busybox:1.36"]
    assert [rs[i]["metadata"]["annotations"][REVISION] for i in sorted(rs)] == ["4", "3", "2"]
    _change_image(sim, "busybox:1.36")  # what rollout undo --to-revision=2 does
    _settle(sim)
    rs = _rs_by_image(sim)
    assert rs["busybox:1.36"]["metadata"]["annotations"][REVISION] == "5"
    assert rs["busybox:1.36"]["metadata"]["annotations"][REVISION_HISTORY] == "2"
    assert rs["busybox:1.36"]["spec"]["replicas"] == 3 and _images(sim) == {"busybox:1.36"}
    d = sim.get(KEY)
    assert d is not None and d["metadata"]["annotations"][REVISION] == "5"


def test_stalled_rollout_times_out_within_bounds() -> None:
    """The new image never gets ready: the rollout stops at the bounds (old pods kept),
    and once progressDeadlineSeconds passed without progress, Progressing=False
    ProgressDeadlineExceeded; a fixed template then finishes the rollout."""
    sim = SimCluster({KEY: _deploy(4, 1, 1)})
    _settle(sim)
    _change_image(sim, "no-such-image")
    ready = lambda pod: pod["spec"]["containers"][0]["image"] != "no-such-image"  # noqa: E731
    for _ in range(20):
        run_until_quiet(sim, CONTROLLERS)
        sim.kubelet(ready)
        assert len(_active(sim)) <= 5 and _available(sim) >= 3
    run_until_quiet(sim, CONTROLLERS)
    d = sim.get(KEY)
    assert d is not None
    cond = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
    assert cond["status"] == "True" and cond["reason"] == "ReplicaSetUpdated"
    assert deployment.wake(KEY, sim.cache, sim.now) == 601.0
    sim.tick(601)
    run_until_quiet(sim, CONTROLLERS)
    d = sim.get(KEY)
    assert d is not None
    cond = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
    assert (cond["status"], cond["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert d["status"]["availableReplicas"] == 3 and d["status"]["unavailableReplicas"] == 2
    _change_image(sim, "busybox:1.36")
    _settle(sim)
    d = sim.get(KEY)
    assert d is not None and _images(sim) == {"busybox:1.36"} and len(_active(sim)) == 4
    cond = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
    assert (cond["status"], cond["reason"]) == ("True", "NewReplicaSetAvailable")


def test_recreate_waits_for_old_pods() -> None:
    sim = SimCluster({KEY: _deploy(3, None, None, strategy="Recreate")})
    _settle(sim)
    _change_image(sim, "busybox:1.36")
    run_until_quiet(sim, CONTROLLERS)
    # old pods are terminating: no new ReplicaSet yet
    assert len(sim.items("/registry/replicasets/default/")) == 1
    assert all(p["metadata"].get("deletionTimestamp") for p in _pods(sim))
    sim.kubelet()  # the nodes finish the deletions
    _settle(sim)
    assert _images(sim) == {"busybox:1.36"} and len(_active(sim)) == 3


def test_scaling_in_the_middle_of_a_rollout_is_proportional() -> None:
    sim = SimCluster({KEY: _deploy(10, 3, 2)})
    _settle(sim)
    _change_image(sim, "busybox:1.36")
    ready = lambda pod: pod["spec"]["containers"][0]["image"] != "busybox:1.36"  # noqa: E731
    for _ in range(3):
        run_until_quiet(sim, CONTROLLERS)
        sim.kubelet(ready)
    sizes = {i: rs["spec"]["replicas"] for i, rs in _rs_by_image(sim).items()}
    assert sizes == {"busybox:latest": 8, "busybox:1.36": 5}  # 13 = 10 + maxSurge 3
    d = copy.deepcopy(sim.get(KEY))
    assert d is not None
    d["spec"]["replicas"] = 20
    d["metadata"]["generation"] += 1
    sim.put(KEY, d)
    run_until_quiet(sim, CONTROLLERS)
    sizes = {i: rs["spec"]["replicas"] for i, rs in _rs_by_image(sim).items()}
    # 23 allowed (20 + 3): the 10 more go 8:5 as the sizes are (Kubernetes' proportions)
    assert sum(sizes.values()) == 23 and sizes["busybox:latest"] > sizes["busybox:1.36"]


def test_paused_deployment_does_not_roll() -> None:
    sim = SimCluster({KEY: _deploy(2, 1, 0)})
    _settle(sim)
    d = copy.deepcopy(sim.get(KEY))
    assert d is not None
    d["spec"]["paused"] = True
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
    sim.put(KEY, d)
    _settle(sim)
    assert _images(sim) == {"busybox:latest"}
    d = sim.get(KEY)
    assert d is not None
    cond = next(c for c in d["status"]["conditions"] if c["type"] == "Progressing")
    assert (cond["status"], cond["reason"]) == ("Unknown", "DeploymentPaused")
    d = copy.deepcopy(d)
    d["spec"]["paused"] = False
    sim.put(KEY, d)
    _settle(sim)
    assert _images(sim) == {"busybox:1.36"}
