"""DaemonSet, Job and CronJob controllers on the shared pods lab, as a user sees them.

- A CronJob ``*/1 * * * *`` with concurrencyPolicy Forbid whose Job runs 70 s: it is
  applied first (module fixture) and watched from a background thread for the whole
  module, so its minutes overlap the other tests; the last test checks that two of its
  Jobs ran, never two at once, and that a run was refused with JobAlreadyActive.
- A DaemonSet runs one pod on each node that takes pods (the master's control-plane
  taint keeps it off there); a nodeSelector narrows it to one node and back; a node that
  leaves for real (its agent stopped, its Node object deleted) loses its pod and gets one
  again when it joins (the agent started, registering the Node again).
- A Job with parallelism 2 and completions 4 completes (never more than 2 active).
- A Job whose pods exit 1 with backoffLimit 1 fails: BackoffLimitExceeded, 2 failed.

Each test works in a namespace of its own and deletes it, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.store.client import Op, Store
from tests.lab.conftest import DOCKER_HOST, PodsCluster
from tests.lab.remote import wait_for

pytestmark = pytest.mark.lab

IMAGE = "busybox:1.36"




def apply(c: PodsCluster, *objects: dict[str, Any]) -> None:
    path = c.workdir / f"dj-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    c.kf("apply", "-f", str(path))


def store(c: PodsCluster) -> Store:
    return Store.from_cluster(ClusterDir.find(str(c.cluster_dir)))


def objects(st: Store, resource: str, namespace: str) -> list[dict[str, Any]]:
    return [o for _, o in st.items(f"/registry/{resource}/{namespace}/")]


@contextlib.contextmanager
def namespace(c: PodsCluster, name: str) -> Iterator[str]:
    c.kf("create", "namespace", name)
    try:
        yield name
    finally:
        c.kf("delete", "namespace", name, check=False)


@contextlib.contextmanager
def diagnosed(c: PodsCluster, *keys: str) -> Iterator[None]:
    """On failure, print the objects at ``keys`` and the reconciler's log (then fail)."""
    try:
        yield
    except AssertionError:
        st = store(c)
        for key in keys:
            print(key, json.dumps(st.get_raw(key)[0], indent=1, sort_keys=True))
        print(c.ssh("kf-master1", "journalctl -u kubeform-reconciler --no-pager -o cat | tail -60", check=False))
        raise


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return dict(cond)
    return None


def busybox(command: str, restart: str = "Never") -> dict[str, Any]:
    return {
        "spec": {
            "restartPolicy": restart,
            "terminationGracePeriodSeconds": 2,
            "containers": [{"name": "c", "image": IMAGE, "command": ["sh", "-c", command]}],
        }
    }


# -- the CronJob, watched in the background ------------------------------------------------


class CronWatch:
    """Samples the CronJob's Jobs every second: the most ever active at once, every name."""

    def __init__(self, st: Store, ns: str) -> None:
        self.st = st
        self.ns = ns
        self.stop = threading.Event()
        self.max_active = 0
        self.names: set[str] = set()
        self.samples = 0
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                jobs = objects(self.st, "jobs", self.ns)
            except Exception as exc:  # a sample lost to a network blip is not a verdict
                self.errors.append(str(exc))
                continue
            running = [j for j in jobs if not condition(j, "Complete") and not condition(j, "Failed")]
            self.max_active = max(self.max_active, len(running))
            self.names.update(j["metadata"]["name"] for j in jobs)
            self.samples += 1


@pytest.fixture(scope="module")
def cron_watch(pods_cluster: PodsCluster) -> Iterator[CronWatch]:
    c = pods_cluster
    with namespace(c, "kfd-cron") as ns:
        apply(c, {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "tick", "namespace": ns},
            "spec": {
                "schedule": "*/1 * * * *",
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {"spec": {"backoffLimit": 0, "template": busybox("sleep 70")}},
            },
        })
        watch = CronWatch(store(c), ns)
        watch.thread.start()
        try:
            yield watch
        finally:
            watch.stop.set()
            watch.thread.join(5)


def test_daemonset_one_pod_per_node_follows_selector_and_nodes(pods_cluster: PodsCluster, cron_watch: CronWatch) -> None:
    c = pods_cluster
    st = store(c)
    nodes = [o for _, o in st.items("/registry/minions/")]
    takers = sorted(
        n["metadata"]["name"] for n in nodes
        if not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in (n.get("spec") or {}).get("taints") or [])
    )
    assert DOCKER_HOST in takers and len(takers) >= 2, takers
    ds: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agentd", "namespace": "kfd-ds"},
        "spec": {
            "selector": {"matchLabels": {"app": "agentd"}},
            "template": {"metadata": {"labels": {"app": "agentd"}}, **busybox("sleep 3600", "Always")},
        },
    }

    def placement() -> dict[str, str]:
        """node -> phase of the live (not terminating) daemon pod there."""
        out = {}
        for p in objects(st, "pods", "kfd-ds"):
            if not p["metadata"].get("deletionTimestamp"):
                assert p["spec"]["nodeName"] not in out, "two daemon pods on one node"
                out[p["spec"]["nodeName"]] = (p.get("status") or {}).get("phase", "")
        return out

    def running_on(want: list[str]) -> Callable[[], Any]:
        def check() -> Any:
            p = placement()
            return p if sorted(p) == want and set(p.values()) == {"Running"} else None

        return check

    with namespace(c, "kfd-ds"), diagnosed(c, "/registry/daemonsets/kfd-ds/agentd"):
        apply(c, ds)
        wait_for("a running pod on each node that takes pods", running_on(takers), 90)
        status = wait_for(
            "the DaemonSet's status",
            lambda: (s := (st.get_raw("/registry/daemonsets/kfd-ds/agentd")[0] or {}).get("status") or {}).get("numberReady") == len(takers) and s,
            30,
        )
        assert status["desiredNumberScheduled"] == status["currentNumberScheduled"] == status["updatedNumberScheduled"] == len(takers)
        assert status["numberMisscheduled"] == 0

        # a nodeSelector narrows it to one node, then lets it go back to all
        ds["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": DOCKER_HOST}
        apply(c, ds)
        wait_for(f"only {DOCKER_HOST}", running_on([DOCKER_HOST]), 90)
        del ds["spec"]["template"]["spec"]["nodeSelector"]
        apply(c, ds)
        wait_for("every node again", running_on(takers), 90)

        # a node leaves for real: its agent stops and its Node object is deleted ...
        c.ssh(DOCKER_HOST, "systemctl stop kubeform-agent")
        try:
            node, rev = st.get_raw(f"/registry/minions/{DOCKER_HOST}")
            assert node is not None
            assert st.txn([Op(f"/registry/minions/{DOCKER_HOST}", None, rev)]).succeeded
            rest = [n for n in takers if n != DOCKER_HOST]
            wait_for(f"no daemon pod object for {DOCKER_HOST}", lambda: sorted(placement()) == rest, 30)
        finally:
            # ... and joins again: the agent registers the Node anew
            c.ssh(DOCKER_HOST, "systemctl start kubeform-agent")
        wait_for(f"{DOCKER_HOST} registered again", lambda: st.get_raw(f"/registry/minions/{DOCKER_HOST}")[0], 60)
        wait_for(f"a running pod on {DOCKER_HOST} again", running_on(takers), 120)


def test_job_parallelism_and_completions(pods_cluster: PodsCluster, cron_watch: CronWatch) -> None:
    c = pods_cluster
    st = store(c)
    with namespace(c, "kfd-job") as ns, diagnosed(c, "/registry/jobs/kfd-job/four"):
        apply(c, {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "four", "namespace": ns},
            "spec": {"parallelism": 2, "completions": 4, "template": busybox("sleep 3")},
        })
        most = 0

        def complete() -> Any:
            nonlocal most
            job = st.get_raw(f"/registry/jobs/{ns}/four")[0] or {}
            active = [p for p in objects(st, "pods", ns) if (p.get("status") or {}).get("phase") in ("Pending", "Running")]
            most = max(most, len(active))
            return job if condition(job, "Complete") else None

        job = wait_for("job four Complete", complete, 150)
        assert job["status"]["succeeded"] == 4
        assert job["status"].get("failed", 0) == 0
        assert job["status"].get("completionTime") and job["status"].get("startTime")
        assert 1 <= most <= 2, most
        pods = objects(st, "pods", ns)
        assert len(pods) == 4 and all(p["status"]["phase"] == "Succeeded" for p in pods)
        assert all(p["spec"]["restartPolicy"] == "Never" for p in pods)


def test_job_backoff_limit(pods_cluster: PodsCluster, cron_watch: CronWatch) -> None:
    c = pods_cluster
    st = store(c)
    with namespace(c, "kfd-fail") as ns, diagnosed(c, "/registry/jobs/kfd-fail/fails"):
        apply(c, {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "fails", "namespace": ns},
            "spec": {"backoffLimit": 1, "template": busybox("exit 1")},
        })
        job = wait_for("job fails Failed", lambda: (j := st.get_raw(f"/registry/jobs/{ns}/fails")[0] or {}) and condition(j, "Failed") and j, 120)
        cond = condition(job, "Failed")
        assert cond is not None and cond["reason"] == "BackoffLimitExceeded"
        assert job["status"]["failed"] == 2 and not job["status"].get("succeeded")
        pods = objects(st, "pods", ns)
        assert len(pods) == 2 and all(p["status"]["phase"] == "Failed" for p in pods)
        events = json.loads(c.kf("get", "events", "-n", ns, "-o", "json").stdout)
        reasons = {e.get("reason") for e in events.get("items", [])}
        assert "BackoffLimitExceeded" in reasons, reasons


def test_cronjob_forbid_never_runs_two_at_once(pods_cluster: PodsCluster, cron_watch: CronWatch) -> None:
    """Runs last: by now the CronJob has been ticking for the other tests' duration."""
    c = pods_cluster
    wait_for("two of the CronJob's Jobs", lambda: len(cron_watch.names) >= 2, 200)
    events = wait_for(
        "a JobAlreadyActive event",
        lambda: (r := {e.get("reason") for e in json.loads(c.kf("get", "events", "-n", "kfd-cron", "-o", "json").stdout).get("items", [])})
        and "JobAlreadyActive" in r and r,
        120,
        every=5,
    )
    assert "SuccessfulCreate" in events
    assert cron_watch.samples > 60
    assert cron_watch.max_active == 1, (cron_watch.max_active, sorted(cron_watch.names))
    cj = store(c).get_raw("/registry/cronjobs/kfd-cron/tick")[0] or {}
    assert cj.get("status", {}).get("lastScheduleTime")
    assert all(n.startswith("tick-") and n[5:].isdigit() for n in cron_watch.names), cron_watch.names
