"""The Job controller: state in, actions out (tests/data/reconciler/controllers/job/).

Case format: tests/unit/reconciler/controllers/cases.py. Pure helpers (completed-index
ranges, back-off, the pod a Job makes) are tested directly below.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeform.reconciler.controllers import CONTROLLERS, garbagecollector, job
from kubeform.reconciler.machinery.actions import Requeue
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .casefile import cases, now_of, view_of
from .cases import summary
from .simcluster import SimCluster

CASES = cases("job")


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_sync(name: str, case: dict[str, Any]) -> None:
    view = view_of(case)
    got = [summary(a, case.get("show"), case.get("create_show")) for a in job.sync(case["sync"], view, now_of(case))]
    assert got == case["expect"]


@pytest.mark.parametrize(
    "text,indexes",
    [("", set()), ("0", {0}), ("0-2,5", {0, 1, 2, 5}), ("1,3-4,7-9", {1, 3, 4, 7, 8, 9})],
)
def test_completed_indexes_round_trip(text: str, indexes: set[int]) -> None:
    assert job.parse_indexes(text) == indexes
    assert job.format_indexes(indexes) == text


def test_backoff_delay_doubles_and_caps() -> None:
    assert [job.backoff_delay(n) for n in (0, 1, 2, 3, 7, 8, 40)] == [0.0, 10.0, 20.0, 40.0, 600.0, 600.0, 600.0]


def test_indexed_pod() -> None:
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "ix", "namespace": "t", "uid": "u1"},
        "spec": {
            "completionMode": "Indexed",
            "template": {
                "metadata": {"labels": {"job-name": "ix"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox", "env": [{"name": "A", "value": "1"}]}]},
            },
        },
    }
    pod = job.new_pod(owner, 3)
    assert pod["metadata"]["generateName"] == "ix-3-"
    assert pod["metadata"]["labels"] == {"job-name": "ix", job.INDEX_KEY: "3"}
    assert pod["metadata"]["annotations"] == {job.INDEX_KEY: "3"}
    assert pod["metadata"]["finalizers"] == [job.TRACKING_FINALIZER]
    assert pod["metadata"]["ownerReferences"][0]["uid"] == "u1"
    assert pod["spec"]["hostname"] == "ix-3"
    assert pod["spec"]["containers"][0]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
    ]
    assert "env" not in owner["spec"]["template"]["spec"]["containers"][0] or len(owner["spec"]["template"]["spec"]["containers"][0]["env"]) == 1


def test_related() -> None:
    view = Cache.from_objects(
        {
            "/registry/jobs/t/a": {"kind": "Job", "metadata": {"name": "a", "namespace": "t"}},
            "/registry/jobs/t/b": {"kind": "Job", "metadata": {"name": "b", "namespace": "t"}},
            "/registry/jobs/u/c": {"kind": "Job", "metadata": {"name": "c", "namespace": "u"}},
        }
    )
    owned = {"metadata": {"name": "p", "namespace": "t", "ownerReferences": [{"kind": "Job", "name": "b", "controller": True}]}}
    orphan = {"metadata": {"name": "q", "namespace": "t"}}
    rs_pod = {"metadata": {"name": "r", "namespace": "t", "ownerReferences": [{"kind": "ReplicaSet", "name": "x", "controller": True}]}}

    def change(key: str, old: Any, new: Any) -> Change:
        return Change(key, Item(key, old, 1) if old else None, Item(key, new, 2) if new else None)

    assert job.related(change("/registry/jobs/t/a", None, {}), view) == ["/registry/jobs/t/a"]
    assert job.related(change("/registry/pods/t/p", None, owned), view) == ["/registry/jobs/t/b"]
    assert job.related(change("/registry/pods/t/q", orphan, None), view) == ["/registry/jobs/t/a", "/registry/jobs/t/b"]
    assert job.related(change("/registry/pods/t/r", None, rs_pod), view) == []


def test_registered() -> None:
    assert job.CONTROLLER in CONTROLLERS
    assert job.CONTROLLER.watches == ("/registry/jobs/", "/registry/pods/")


def test_finish_time() -> None:
    done = {"status": {"conditions": [{"type": "Failed", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"}]}}
    assert job.finish_time(done) == datetime.datetime(2026, 1, 1, 0, 0, 5, tzinfo=datetime.UTC)
    assert job.finish_time({"status": {"completionTime": "2026-01-01T00:00:07Z"}}) == datetime.datetime(2026, 1, 1, 0, 0, 7, tzinfo=datetime.UTC)
    assert job.finish_time({}) is None


def _sim_job(ttl: int) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "t", "uid": "job-uid", "generation": 1},
        "spec": {
            "completions": 2, "parallelism": 2, "backoffLimit": 6, "ttlSecondsAfterFinished": ttl,
            "selector": {"matchLabels": {"controller-uid": "job-uid"}},
            "template": {"metadata": {"labels": {"controller-uid": "job-uid", "job-name": "pi"}},
                         "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}},
        },
    }


def test_ttl_deletes_the_job_and_its_pods_through_the_garbage_collector() -> None:
    """A Job runs to completion on the simulated cluster; its TTL passes; the Job is marked
    for foreground deletion, the garbage collector deletes its pods and then the Job."""
    sim = SimCluster({"/registry/minions/n1": {"kind": "Node", "metadata": {"name": "n1"}, "spec": {}},
                      "/registry/jobs/t/pi": _sim_job(60)})
    controllers = [job.CONTROLLER, *garbagecollector.CONTROLLERS]

    def settle() -> None:  # syncs until nothing but a Requeue (the TTL's) is left to do
        for _ in range(50):
            wrote = False
            for c in controllers:
                for key in sim.cache.keys(c.primary):
                    actions = [a for a in c.sync(key, sim.cache, sim.now) if not isinstance(a, Requeue)]
                    wrote = bool(actions and sim.txn(actions)) or wrote
            if not wrote:
                return
        raise AssertionError("no convergence")

    settle()
    for key, pod in sim.items("/registry/pods/t/"):
        sim.put(key, dict(pod, spec=dict(pod["spec"], nodeName="n1"), status={"phase": "Succeeded"}))
    settle()
    done = sim.get("/registry/jobs/t/pi")
    assert done is not None and job.is_finished(done) == "Complete"
    assert len(sim.items("/registry/pods/t/")) == 2  # kept until the TTL
    sim.tick(61)
    assert sim.txn(job.sync("/registry/jobs/t/pi", sim.cache, sim.now))
    marked = sim.get("/registry/jobs/t/pi")
    assert marked is not None and marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert len(sim.items("/registry/pods/t/")) == 2  # the garbage collector's turn now
    settle()
    assert sim.items("/registry/pods/t/") == []
    assert sim.get("/registry/jobs/t/pi") is None


def test_created_pods_are_named_once_and_announced() -> None:
    """The same decision names the same pods (the writer then creates them once); a name
    another pod has is skipped; each pod gets its ``SuccessfulCreate`` event, as upstream."""
    from kubeform.reconciler import podcontrol
    from kubeform.reconciler.machinery.actions import Create

    owner = {"metadata": {"name": "pi", "namespace": "t", "uid": "job-uid"}}

    def made() -> list[Create]:
        return [Create(job.PODS, job.new_pod(owner, None)) for _ in range(2)]

    first, again = made(), made()
    events = podcontrol.name_created(owner, 10, list(first), set(), job.COMPONENT)
    podcontrol.name_created(owner, 10, list(again), set(), job.COMPONENT)
    names = [a.obj["metadata"]["name"] for a in first]
    assert names == [a.obj["metadata"]["name"] for a in again] and len(set(names)) == 2
    assert all(n.startswith("pi-") and len(n) == 8 for n in names)
    assert [(e.reason, e.message) for e in events] == [("SuccessfulCreate", f"Created pod: {n}") for n in names]
    other = made()
    podcontrol.name_created(owner, 10, list(other), {names[0]}, job.COMPONENT)
    assert other[0].obj["metadata"]["name"] not in names
