"""The node runtime manager against a real etcd on loopback, with the FakeDriver and a fake clock.

Why a real etcd: the manager's writes are transactions on mod_revision, its events use a
lease, its caches follow watches; a fake store would prove none of that. Why a fake driver
and clock: these tests are about the lifecycle's behaviour over minutes of back-off
(10 s, 20 s, ...), which a fake clock runs in milliseconds. ``sync_once`` converges in the
test's thread, so every step is deterministic; one test runs the threaded loop for real.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime.fake import FakeDriver
from kubeform.agent.runtime.manager import RuntimeManager
from kubeform.api.etcd import EtcdClient
from tests.etcd_server import EtcdServer, etcd_clean, etcd_tls  # noqa: F401

pytestmark = pytest.mark.integration

NODE = "kf-node1"
T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def dt(self) -> datetime.datetime:
        return datetime.datetime.utcfromtimestamp(self.now)

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Rig:
    """One node: a manager over a FakeDriver, a real etcd, a fake clock."""

    def __init__(self, server: EtcdServer, tmp: Path) -> None:
        c = server.cluster
        self.client = EtcdClient([server.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key), timeout=5)
        self.clock = Clock()
        self.driver = FakeDriver()
        self.driver.clock = self.clock.dt
        self.tmp = tmp
        self.mounts: list[list[str]] = []
        self.manager = self.new_manager()

    def new_manager(self) -> RuntimeManager:
        return RuntimeManager(
            self.client, self.driver, NODE, str(self.tmp / "state"), str(self.tmp / "logs"),
            lambda: "192.168.71.11", clock=self.clock, mount_runner=self.mounts.append,
        )

    def put(self, obj: dict[str, Any], plural: str = "pods") -> None:
        meta = obj["metadata"]
        self.client.put(f"/registry/{plural}/{meta.get('namespace', 'default')}/{meta['name']}", json.dumps(obj))

    def pod(self, name: str) -> dict[str, Any] | None:
        kv = self.client.get(f"/registry/pods/default/{name}")
        return json.loads(kv.value) if kv else None

    def sync(self, times: int = 1, step: float = 0.0) -> None:
        for _ in range(times):
            self.manager.sync_once()
            self.clock.advance(step)

    def status(self, name: str, container: str = "app") -> dict[str, Any]:
        pod = self.pod(name)
        assert pod is not None
        for cs in pod["status"].get("containerStatuses", []) + pod["status"].get("initContainerStatuses", []):
            if cs["name"] == container:
                return cs
        raise AssertionError(f"no status for {container}: {pod['status']}")

    def condition(self, name: str, kind: str) -> str:
        pod = self.pod(name)
        assert pod is not None
        return next(c["status"] for c in pod["status"]["conditions"] if c["type"] == kind)

    def reasons(self) -> list[str]:
        kvs, _ = self.client.range("/registry/events/", prefix=True)
        events = sorted((json.loads(kv.value) for kv in kvs), key=lambda e: e["metadata"]["name"])
        return [e["reason"] for e in events]


def pod(name: str, uid: str, *, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid},
        "spec": {"nodeName": NODE, "containers": containers, **spec},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": "2023-11-14T22:13:00Z"}]},
    }


@pytest.fixture
def rig(etcd_clean: EtcdServer, tmp_path: Path) -> Rig:  # noqa: F811
    return Rig(etcd_clean, tmp_path)


def test_init_then_app_and_status(rig: Rig) -> None:
    rig.put(pod("web", "u-web", initContainers=[{"name": "init", "image": "busybox"}],
                containers=[{"name": "app", "image": "busybox", "env": [{"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]}]))
    rig.put(pod("elsewhere", "u-else", containers=[{"name": "app", "image": "busybox"}]) | {"spec": {"nodeName": "kf-node2", "containers": [{"name": "app", "image": "busybox"}]}})
    rig.sync()
    assert rig.driver.started == ["u-web/init/0"]
    assert rig.pod("web")["status"]["phase"] == "Pending"
    assert rig.status("web")["state"] == {"waiting": {"reason": "PodInitializing"}}
    rig.driver.exit("u-web", "init", 0)
    rig.sync()
    assert rig.driver.started == ["u-web/init/0", "u-web/app/0"]
    status = rig.pod("web")["status"]
    assert status["phase"] == "Running"
    assert status["podIP"] == "10.244.1.2" and status["hostIP"] == "192.168.71.11"
    assert rig.condition("web", "Ready") == "True" and rig.condition("web", "Initialized") == "True"
    scheduled = next(c for c in status["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["lastTransitionTime"] == "2023-11-14T22:13:00Z"
    spec = next(s for s in rig.driver.specs.values() if s.name == "app")
    assert "IP=10.244.1.2" in spec.env and spec.log_path.endswith("default_web_u-web/app/0.log")
    for reason in ("Pulling", "Pulled", "Created", "Started", "ResourceLimitsNotEnforced"):
        assert reason in rig.reasons()
    before = rig.pod("web")
    revision = rig.client.get("/registry/pods/default/web").mod_revision
    rig.sync(3)
    after = rig.pod("web")
    # unchanged status: no write, but for the periodic usage sample (status.usage, every 15 s)
    if after["status"].get("usage") == before["status"].get("usage"):
        assert rig.client.get("/registry/pods/default/web").mod_revision == revision
    strip = lambda p: {**p, "metadata": {k: v for k, v in p["metadata"].items() if k != "resourceVersion"}, "status": {k: v for k, v in p["status"].items() if k != "usage"}}  # noqa: E731
    assert strip(after) == strip(before)


def test_crash_backoff_grows(rig: Rig) -> None:
    rig.put(pod("crash", "u-c", containers=[{"name": "app", "image": "busybox"}]))
    rig.sync()
    gaps = []
    for attempt in range(4):
        rig.driver.exit("u-c", "app", 1)
        exited_at = rig.clock.now
        rig.sync()
        cs = rig.status("crash")
        assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        assert cs["lastState"]["terminated"]["exitCode"] == 1
        while rig.driver.find("u-c", "app").attempt == attempt:
            rig.clock.advance(1)
            rig.sync()
        gaps.append(rig.clock.now - exited_at)
        assert rig.status("crash")["restartCount"] == attempt + 1
    assert gaps == [10, 20, 40, 80]
    assert "BackOff" in rig.reasons()


def test_liveness_failure_restarts(rig: Rig) -> None:
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 2}
    rig.put(pod("live", "u-l", containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}], terminationGracePeriodSeconds=3))
    rig.sync(3, step=1)
    assert rig.driver.find("u-l", "app").state == "running"
    rig.driver.exec_fails.add("app")
    rig.sync(3, step=1)
    first = next(c for c in rig.driver.list_containers() if c.attempt == 0)
    assert first.state == "exited" and rig.driver.stop_grace[first.id] == 3
    rig.driver.exec_fails.clear()
    rig.sync(12, step=1)
    assert rig.driver.find("u-l", "app").attempt == 1 and rig.driver.find("u-l", "app").state == "running"
    assert rig.status("live")["restartCount"] == 1
    reasons = rig.reasons()
    assert "Unhealthy" in reasons and "Killing" in reasons


def test_readiness_flips_ready(rig: Rig) -> None:
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 1}
    rig.put(pod("ready", "u-r", containers=[{"name": "app", "image": "busybox", "readinessProbe": probe}]))
    rig.sync()
    rig.clock.advance(1)
    rig.sync()
    assert rig.condition("ready", "Ready") == "True"
    rig.driver.exec_fails.add("app")
    rig.clock.advance(1)
    rig.sync()
    assert rig.condition("ready", "Ready") == "False" and rig.condition("ready", "ContainersReady") == "False"
    assert rig.driver.find("u-r", "app").attempt == 0  # readiness never restarts
    rig.driver.exec_fails.clear()
    rig.clock.advance(1)
    rig.sync()
    assert rig.condition("ready", "Ready") == "True"


def test_deletion_with_grace(rig: Rig) -> None:
    rig.put(pod("gone", "u-g", containers=[{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}], volumes=[{"name": "s", "emptyDir": {}}]))
    rig.sync()
    obj = rig.pod("gone")
    obj["metadata"]["deletionTimestamp"] = "2023-11-14T22:14:00Z"
    obj["metadata"]["deletionGracePeriodSeconds"] = 7
    rig.put(obj)
    rig.sync()
    assert sorted(rig.driver.stop_grace.values()) == [7, 7]
    rig.sync()
    assert rig.pod("gone") is None
    assert rig.driver.list_containers() == [] and rig.driver.list_sandboxes() == []
    assert not (rig.tmp / "state" / "pods" / "u-g").exists()
    assert "Killing" in rig.reasons()


def test_agent_restart_adopts_without_duplicates(rig: Rig) -> None:
    rig.put(pod("keep", "u-k", initContainers=[{"name": "init", "image": "busybox"}], containers=[{"name": "app", "image": "busybox"}]))
    rig.sync()
    rig.driver.exit("u-k", "init", 0)
    rig.sync()
    before = list(rig.driver.started)
    ip = rig.pod("keep")["status"]["podIP"]
    rig.manager = rig.new_manager()  # kill -9 and start again: no memory, same host
    rig.sync(5, step=1)
    assert rig.driver.started == before
    assert rig.pod("keep")["status"]["podIP"] == ip


def test_orphans_and_unbound_pods_are_removed(rig: Rig) -> None:
    rig.put(pod("moved", "u-m", containers=[{"name": "app", "image": "busybox"}]))
    rig.sync()
    assert rig.driver.find("u-m", "app") is not None
    rig.client.delete("/registry/pods/default/moved")
    rig.sync()
    assert rig.driver.list_containers() == [] and rig.driver.list_sandboxes() == []


def test_a_pod_waits_for_its_namesakes_containers_to_go(rig: Rig) -> None:
    """kv-0 force-deleted while this node was cut off and created again bound here (its
    volume is here): the agent back sees both at once; the new one starts only after the
    old one's containers and sandbox are gone, never beside them."""
    rig.put(pod("kv-0", "u-old", containers=[{"name": "app", "image": "busybox"}]))
    rig.sync()
    assert rig.driver.find("u-old", "app") is not None
    assert (rig.tmp / "state" / "pods" / "u-old" / "pod-name").read_text() == "default/kv-0"
    rig.put(pod("kv-0", "u-new", containers=[{"name": "app", "image": "busybox"}]))  # the same key, another pod
    rig.manager = rig.new_manager()  # and a restarted agent: the old name comes from its record
    rig.sync()
    assert rig.driver.started == ["u-old/app/0"]  # held: the old one was still there when listed
    assert rig.driver.list_containers() == [] and rig.driver.list_sandboxes() == []
    assert not (rig.tmp / "state" / "pods" / "u-old").exists()  # the record went with it
    rig.sync()
    assert rig.driver.started == ["u-old/app/0", "u-new/app/0"]
    assert rig.pod("kv-0")["status"]["phase"] == "Running"


def test_image_pull_failure_backs_off(rig: Rig) -> None:
    rig.driver.bad_images["nosuch:1"] = "nosuch:1: manifest unknown"
    rig.put(pod("bad", "u-b", containers=[{"name": "app", "image": "nosuch:1"}]))
    rig.sync()
    assert rig.status("bad")["state"]["waiting"]["reason"] == "ErrImagePull"
    rig.clock.advance(1)
    rig.sync()
    assert rig.status("bad")["state"]["waiting"]["reason"] == "ImagePullBackOff"
    pulls = len(rig.driver.pulls)
    rig.sync(5, step=1)
    assert len(rig.driver.pulls) == pulls  # still backing off (10 s)
    rig.sync(6, step=1)
    assert len(rig.driver.pulls) == pulls + 1
    assert "Failed" in rig.reasons() and "BackOff" in rig.reasons()


def test_env_from_configmap_secret_and_missing_key(rig: Rig) -> None:
    rig.put({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"color": "blue"}}, "configmaps")
    rig.put({"metadata": {"name": "creds", "namespace": "default"}, "data": {"password": "czNjcjN0"}}, "secrets")
    env = [
        {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
    ]
    rig.put(pod("envy", "u-e", containers=[{"name": "app", "image": "busybox", "env": env}]))
    bad = [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nokey"}}}]
    rig.put(pod("broken", "u-x", containers=[{"name": "app", "image": "busybox", "env": bad}]))
    rig.sync()
    spec = next(s for s in rig.driver.specs.values() if s.pod_uid == "u-e")
    assert "COLOR=blue" in spec.env and "PW=s3cr3t" in spec.env
    assert rig.status("broken")["state"]["waiting"] == {
        "reason": "CreateContainerConfigError", "message": "couldn't find key nokey in ConfigMap default/cfg"
    }


def test_configmap_volume_updates_in_place(rig: Rig) -> None:
    rig.put({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"index.html": "one"}}, "configmaps")
    rig.put(pod("vol", "u-v", containers=[{"name": "app", "image": "busybox", "volumeMounts": [{"name": "c", "mountPath": "/www"}]}],
                volumes=[{"name": "c", "configMap": {"name": "cfg"}}]))
    rig.sync()
    path = rig.tmp / "state" / "pods" / "u-v" / "volumes" / "c" / "index.html"
    assert path.read_text() == "one"
    rig.put({"metadata": {"name": "cfg", "namespace": "default"}, "data": {"index.html": "two"}}, "configmaps")
    rig.clock.advance(1)
    rig.sync()
    assert path.read_text() == "two"
    assert rig.driver.find("u-v", "app").attempt == 0


def test_threaded_loop_runs_a_pod(rig: Rig) -> None:
    rig.manager.clock = time.time
    rig.driver.clock = datetime.datetime.utcnow
    rig.manager.start()
    try:
        rig.put(pod("live", "u-t", containers=[{"name": "app", "image": "busybox"}]))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            p = rig.pod("live")
            if p and p["status"].get("phase") == "Running":
                break
            time.sleep(0.1)
        assert rig.pod("live")["status"]["phase"] == "Running"
        assert rig.driver.started == ["u-t/app/0"]
    finally:
        rig.manager.request_stop()


def test_new_image_restarts_the_container_also_after_an_agent_restart(rig: Rig) -> None:
    obj = pod("img", "u-i", containers=[{"name": "app", "image": "busybox:1.36"}])
    rig.put(obj)
    rig.sync()
    rig.manager = rig.new_manager()  # the hashes are on disk, not only in memory
    obj = rig.pod("img")
    obj["spec"]["containers"][0]["image"] = "busybox:1.37"
    rig.put(obj)
    rig.sync()
    rig.sync()
    newest = rig.driver.find("u-i", "app")
    assert newest.attempt == 1 and newest.state == "running"
    assert rig.driver.specs[newest.id].image.ref == "busybox:1.37"
    assert "Killing" in rig.reasons()


def test_service_variables_from_the_service_map_when_the_container_starts(rig: Rig) -> None:
    """Services of the pod's namespace that exist when a container starts (the leader's
    service map) become its variables; the pod's own env wins; a later Service is not seen
    by the running container."""
    def entry(ns: str, name: str, ip: str, port: int) -> dict[str, Any]:
        return {"namespace": ns, "name": name, "type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
                "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
                "ports": [{"name": "", "protocol": "TCP", "port": port, "nodePort": 0, "endpoints": []}], "addresses": []}

    rig.client.put("/registry/kubeform/servicemap/default/redis-master", json.dumps(entry("default", "redis-master", "10.96.0.11", 6379)))
    rig.client.put("/registry/kubeform/servicemap/other/db", json.dumps(entry("other", "db", "10.96.0.12", 5432)))
    rig.put(pod("web", "u-web", containers=[{"name": "app", "image": "busybox",
                                             "env": [{"name": "REDIS_MASTER_PORT", "value": "mine"}]}]))
    rig.sync()
    cid = rig.driver.find("u-web", "app").id
    env = dict(kv.split("=", 1) for kv in rig.driver.specs[cid].env)
    assert env["REDIS_MASTER_SERVICE_HOST"] == "10.96.0.11" and env["REDIS_MASTER_SERVICE_PORT"] == "6379"
    assert env["REDIS_MASTER_PORT_6379_TCP_ADDR"] == "10.96.0.11"
    assert env["REDIS_MASTER_PORT"] == "mine"
    assert not any(k.startswith("DB_") for k in env)

    rig.client.put("/registry/kubeform/servicemap/default/late", json.dumps(entry("default", "late", "10.96.0.13", 80)))
    rig.sync()
    assert not any(k.startswith("LATE_") for k in rig.driver.specs[cid].env)
    rig.put(pod("off", "u-off", enableServiceLinks=False, containers=[{"name": "app", "image": "busybox"}]))
    rig.sync()
    assert not any("_SERVICE_" in kv for kv in rig.driver.specs[rig.driver.find("u-off", "app").id].env)


def _events(rig: Rig, reason: str) -> list[dict[str, Any]]:
    """The events of ``reason`` once at least one is stored (the recorder writes them from
    its own thread, a moment after the sync that recorded them; 5 s at most)."""
    deadline = time.monotonic() + 5
    while True:
        kvs, _ = rig.client.range("/registry/events/", prefix=True)
        got = [e for e in (json.loads(kv.value) for kv in kvs) if e["reason"] == reason]
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


POST_START = {"postStart": {"exec": {"command": ["/bin/sh", "-c", "echo hi > /usr/share/message"]}}}


def test_post_start_runs_once_right_after_the_start(rig: Rig) -> None:
    rig.put(pod("ps", "u-ps", containers=[{"name": "app", "image": "busybox", "lifecycle": POST_START}]))
    rig.sync(3, 1.0)
    cid = rig.driver.find("u-ps", "app").id
    assert rig.driver.execs == [[cid, "/bin/sh", "-c", "echo hi > /usr/share/message"]]
    assert "running" in rig.status("ps")["state"] and rig.condition("ps", "Ready") == "True"
    assert rig.manager.hook_records.state("u-ps", cid, "postStart") == "done"
    # a restarted agent (records read back from disk) does not run it again
    rig.manager = rig.new_manager()
    rig.sync(2, 1.0)
    assert len(rig.driver.execs) == 1


def test_post_start_pending_at_a_restart_runs_once_and_begun_never_again(rig: Rig) -> None:
    rig.put(pod("ps", "u-ps", containers=[{"name": "app", "image": "busybox", "lifecycle": POST_START},
                                          {"name": "two", "image": "busybox", "lifecycle": POST_START}]))
    rig.sync()
    app, two = rig.driver.find("u-ps", "app").id, rig.driver.find("u-ps", "two").id
    assert len(rig.driver.execs) == 2
    # as if the agent died after starting app (pending) and in the middle of two's hook (begun)
    rig.manager.hook_records.mark("u-ps", app, "postStart", "pending", [app, two])
    rig.manager.hook_records.mark("u-ps", two, "postStart", "begun", [app, two])
    rig.manager = rig.new_manager()
    rig.sync(3, 1.0)
    assert [e[0] for e in rig.driver.execs] == [app, two, app]
    assert rig.manager.hook_records.state("u-ps", app, "postStart") == "done"
    assert rig.driver.started == ["u-ps/app/0", "u-ps/two/0"]


def test_failed_post_start_kills_the_container_which_restarts_with_back_off(rig: Rig) -> None:
    rig.driver.exec_fails.add("app")
    rig.put(pod("bad", "u-bad", containers=[{"name": "app", "image": "busybox", "lifecycle": POST_START}],
                terminationGracePeriodSeconds=5))
    rig.sync()
    first = rig.driver.find("u-bad", "app")
    assert first.state == "exited" and first.id in rig.driver.stopped and rig.driver.stop_grace[first.id] == 5
    failed = _events(rig, "FailedPostStartHook")
    assert len(failed) == 1 and failed[0]["type"] == "Warning"
    assert failed[0]["message"].startswith(
        'Exec lifecycle hook ([/bin/sh -c echo hi > /usr/share/message]) for Container "app" in Pod "bad_default(u-bad)" failed - error: command ')
    assert any(e["message"] == "FailedPostStartHook" for e in _events(rig, "Killing"))
    rig.sync()
    assert rig.status("bad")["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    rig.clock.advance(11)
    rig.sync()
    assert rig.driver.started == ["u-bad/app/0", "u-bad/app/1"]
    assert rig.status("bad")["restartCount"] == 1


def test_pre_stop_runs_before_the_stop_signal_within_the_grace(rig: Rig) -> None:
    hooks = {"preStop": {"exec": {"command": ["nginx", "-s", "quit"]}}}
    rig.put(pod("stop", "u-stop", containers=[{"name": "app", "image": "busybox", "lifecycle": hooks},
                                              {"name": "plain", "image": "busybox"}]))
    rig.sync()
    app, plain = rig.driver.find("u-stop", "app").id, rig.driver.find("u-stop", "plain").id
    assert rig.driver.execs == []
    obj = rig.pod("stop")
    obj["metadata"].update(deletionTimestamp="2023-11-14T22:14:00Z", deletionGracePeriodSeconds=30)
    rig.put(obj)
    rig.sync()
    assert rig.driver.execs == [[app, "nginx", "-s", "quit"]]
    assert 28 < rig.driver.stop_grace[app] <= 30 and rig.driver.stop_grace[plain] == 30
    rig.sync(2)
    assert rig.pod("stop") is None


def test_pre_stop_failure_is_an_event_and_a_slow_one_is_cut_at_the_grace(rig: Rig) -> None:
    rig.driver.exec_fails.add("app")
    rig.put(pod("pf", "u-pf", containers=[
        {"name": "app", "image": "busybox", "lifecycle": {"preStop": {"exec": {"command": ["drain"]}}}},
        {"name": "slow", "image": "busybox", "lifecycle": {"preStop": {"sleep": {"seconds": 30}}}},
    ], terminationGracePeriodSeconds=1))
    rig.sync()
    slow = rig.driver.find("u-pf", "slow").id
    obj = rig.pod("pf")
    obj["metadata"].update(deletionTimestamp="2023-11-14T22:14:00Z", deletionGracePeriodSeconds=1)
    rig.put(obj)
    started = time.monotonic()
    rig.sync()
    took = time.monotonic() - started
    assert 0.9 < took < 5, took  # the sleep hook stopped at the grace of 1 s
    assert rig.driver.stop_grace[slow] == 2  # then the signal, with the kubelet's minimum
    failed = _events(rig, "FailedPreStopHook")
    assert [e["message"].split(" failed - ")[0] for e in failed] == [
        'Exec lifecycle hook ([drain]) for Container "app" in Pod "pf_default(u-pf)"']


def test_liveness_restart_runs_pre_stop(rig: Rig) -> None:
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 1, "failureThreshold": 1}
    rig.put(pod("lv", "u-lv", containers=[{"name": "app", "image": "busybox", "livenessProbe": probe,
                                           "lifecycle": {"preStop": {"httpGet": {"port": 1, "host": "127.0.0.1"}}}}],
                terminationGracePeriodSeconds=3))
    rig.sync()
    rig.driver.exec_fails.add("app")
    rig.sync(3, 1.0)
    assert rig.driver.stopped
    failed = _events(rig, "FailedPreStopHook")  # nothing listens on 127.0.0.1:1
    assert failed and failed[0]["message"].startswith('HTTP lifecycle hook () for Container "app" in Pod "lv_default(u-lv)" failed - error: ')
