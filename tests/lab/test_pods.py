"""Pods on a real lab: the agent's lifecycle with the crun (and docker) drivers.

Runs on the shared ``pods_cluster`` fixture (tests/lab/conftest.py: 3 hosts, `kubeform up`
done, busybox:1.36 in the cluster registry; KF_PODS_LAB=name:cidr picks another lab).
Pods are pinned with spec.nodeName so each test knows which runtime runs it: kf-node1 is
crun, conftest.DOCKER_HOST runs docker. Every test deletes what it made, also on failure.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from kubeform.api.nodes import parse_time
from tests.lab.conftest import DOCKER_HOST, PodsCluster
from tests.lab.remote import wait_for

CRUN_HOST = "kf-node1"
IMAGE = "busybox:1.36"


def apply(cluster: PodsCluster, *objects: dict[str, Any]) -> None:
    path = cluster.workdir / f"objects-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    cluster.kf("apply", "-f", str(path))


def kexec(cluster: PodsCluster, pod_name: str, *command: str, container: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    """`kubeform exec` (the fixture's kf() would put --cluster after the `--`)."""
    argv = [sys.executable, "-m", "kubeform", "exec", "--cluster", str(cluster.cluster_dir), pod_name]
    if container:
        argv += ["-c", container]
    proc = subprocess.run([*argv, "--", *command], cwd=cluster.workdir, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"exec {command} in {pod_name}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def get_pod(cluster: PodsCluster, name: str) -> dict[str, Any] | None:
    proc = cluster.kf("get", "pod", name, "-o", "json", check=False)
    if proc.returncode != 0:
        return None
    return json.loads(proc.stdout)




def container_status(pod: dict[str, Any] | None, name: str) -> dict[str, Any]:
    for cs in ((pod or {}).get("status") or {}).get("containerStatuses") or []:
        if cs["name"] == name:
            return cs
    return {}


def condition(pod: dict[str, Any] | None, kind: str) -> str:
    for c in ((pod or {}).get("status") or {}).get("conditions") or []:
        if c["type"] == kind:
            return c["status"]
    return ""


def running(cluster: PodsCluster, name: str, timeout: float = 60.0) -> dict[str, Any]:
    def ok() -> dict[str, Any] | None:
        pod = get_pod(cluster, name)
        return pod if pod and pod.get("status", {}).get("phase") == "Running" else None

    return wait_for(f"pod {name} Running", ok, timeout)  # type: ignore[no-any-return]


def events(cluster: PodsCluster, name: str) -> str:
    return cluster.kf("describe", "pod", name).stdout


def pod(name: str, node: str, containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 2, "containers": containers, **spec},
    }


@pytest.fixture
def cleanup(pods_cluster: PodsCluster) -> Iterator[list[str]]:
    """Names of objects (kind/name) a test made; deleted at the end, also on failure."""
    made: list[str] = []
    yield made
    for ref in made:
        pods_cluster.kf("delete", ref, "--grace-period", "1", "--timeout", "60s", check=False)


@pytest.mark.parametrize("node", [CRUN_HOST, DOCKER_HOST])
def test_init_container_and_shared_emptydir_over_localhost(pods_cluster: PodsCluster, cleanup: list[str], node: str) -> None:
    name = f"share-{node}"
    cleanup.append(f"pod/{name}")
    mount = [{"name": "shared", "mountPath": "/data"}]
    apply(pods_cluster, pod(
        name, node,
        initContainers=[{"name": "init", "image": IMAGE, "volumeMounts": mount,
                         "command": ["sh", "-c", "echo served-from-init > /data/index.html"]}],
        volumes=[{"name": "shared", "emptyDir": {}}],
        containers=[
            {"name": "web", "image": IMAGE, "volumeMounts": mount, "command": ["httpd", "-f", "-p", "8080", "-h", "/data"]},
            {"name": "client", "image": IMAGE, "volumeMounts": mount,
             "command": ["sh", "-c", "while true; do wget -q -O /data/fetched http://localhost:8080/index.html; sleep 1; done"]},
        ],
    ))
    obj = running(pods_cluster, name)
    assert obj["status"]["podIP"] and obj["status"]["hostIP"]
    assert condition(obj, "Initialized") == "True"
    init = obj["status"]["initContainerStatuses"][0]
    assert init["state"]["terminated"]["reason"] == "Completed"

    def fetched() -> str:
        proc = kexec(pods_cluster, name, "cat", "/data/fetched", container="client", check=False)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    assert wait_for("client fetched the page over localhost", fetched, 30) == "served-from-init"
    wide = pods_cluster.kf("get", "pods", "-o", "wide").stdout
    assert re.search(rf"^{name}\s+2/2\s+Running\s+0\s+\S+\s+{re.escape(obj['status']['podIP'])}\s+{node}", wide, re.M), wide


def test_env_from_configmap_and_secret(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    cleanup.extend(["pod/envy", "configmap/envy-cfg", "secret/envy-creds"])
    apply(
        pods_cluster,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "envy-cfg", "namespace": "default"},
         "data": {"color": "blue", "size": "L"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "envy-creds", "namespace": "default"},
         "stringData": {"password": "s3cr3t"}},
        pod("envy", CRUN_HOST, [{
            "name": "app", "image": IMAGE, "command": ["sh", "-c", "env | sort; sleep 3600"],
            "env": [
                {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "envy-cfg", "key": "color"}}},
                {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "envy-creds", "key": "password"}}},
                {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                {"name": "GREETING", "value": "hi $(MY_POD)"},
            ],
            "envFrom": [{"configMapRef": {"name": "envy-cfg"}, "prefix": "CFG_"}],
        }]),
    )
    obj = running(pods_cluster, "envy")

    def logged() -> str:
        out = pods_cluster.kf("logs", "envy", check=False).stdout
        return out if "GREETING" in out else ""

    out = wait_for("env in the log", logged, 30)
    for line in ("COLOR=blue", "PASSWORD=s3cr3t", "MY_POD=envy", f"MY_IP={obj['status']['podIP']}",
                 "GREETING=hi envy", "CFG_color=blue", "CFG_size=L"):
        assert line in out.splitlines(), out


def test_missing_configmap_key_is_create_container_config_error(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    cleanup.append("pod/noconf")
    apply(pods_cluster, pod("noconf", CRUN_HOST, [{
        "name": "app", "image": IMAGE, "command": ["sleep", "3600"],
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nosuch-cfg", "key": "x"}}}],
    }]))
    waiting = wait_for(
        "CreateContainerConfigError",
        lambda: container_status(get_pod(pods_cluster, "noconf"), "app").get("state", {}).get("waiting", {}).get("reason") == "CreateContainerConfigError",
        30,
    )
    assert waiting
    assert 'configmap "nosuch-cfg" not found' in events(pods_cluster, "noconf")


def _stamp(text: str) -> float:
    parsed = parse_time(text)
    assert parsed is not None, text
    return parsed.timestamp()


def test_crash_restarts_with_growing_backoff(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    """The back-off is read from the status' own times (the exit of attempt n-1 to the start
    of attempt n), not from polling, so a slow CLI does not blur it: 10 s, 20 s, 40 s."""
    cleanup.append("pod/crash")
    apply(pods_cluster, pod("crash", CRUN_HOST, [{"name": "app", "image": IMAGE, "command": ["sh", "-c", "echo dying; exit 3"]}]))
    attempts: dict[int, tuple[float, float]] = {}  # attempt -> (startedAt, finishedAt)

    def restarts() -> bool:
        cs = container_status(get_pod(pods_cluster, "crash"), "app")
        last = (cs.get("lastState") or {}).get("terminated")
        if last and (cs.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff":
            attempts[int(cs["restartCount"])] = (_stamp(last["startedAt"]), _stamp(last["finishedAt"]))
        return all(n in attempts for n in (1, 2, 3))

    wait_for("three restarts", restarts, 200, every=0.25)
    waits = [attempts[n][0] - attempts[n - 1][1] for n in (2, 3) if n - 1 in attempts]
    if 0 in attempts:
        waits.insert(0, attempts[1][0] - attempts[0][1])
    expected = [10, 20, 40][-len(waits):]
    for got, want in zip(waits, expected, strict=True):
        assert want - 1 <= got <= want + 4, (waits, attempts)
    cs = container_status(get_pod(pods_cluster, "crash"), "app")
    terminated = (cs.get("lastState") or {}).get("terminated") or {}
    assert terminated.get("exitCode") == 3 and terminated.get("reason") == "Error"
    assert "BackOff" in events(pods_cluster, "crash")
    previous = pods_cluster.kf("logs", "crash", "--previous", check=False).stdout
    assert "dying" in previous


@pytest.mark.parametrize("node", [CRUN_HOST, DOCKER_HOST])
def test_failing_liveness_probe_restarts(pods_cluster: PodsCluster, cleanup: list[str], node: str) -> None:
    name = f"liveness-{node}"
    cleanup.append(f"pod/{name}")
    apply(pods_cluster, pod(name, node, [{
        "name": "app", "image": IMAGE,
        "command": ["sh", "-c", "touch /tmp/healthy; sleep 4; rm -f /tmp/healthy; sleep 3600"],
        "livenessProbe": {"exec": {"command": ["cat", "/tmp/healthy"]}, "periodSeconds": 1, "failureThreshold": 2},
    }]))
    running(pods_cluster, name)
    wait_for("a liveness restart",
             lambda: container_status(get_pod(pods_cluster, name), "app").get("restartCount", 0) >= 1, 60)
    text = events(pods_cluster, name)
    assert "Unhealthy" in text and "Liveness probe failed" in text
    assert "failed liveness probe, will be restarted" in text


@pytest.mark.parametrize("node", [CRUN_HOST, DOCKER_HOST])
def test_readiness_probe_flips_ready(pods_cluster: PodsCluster, cleanup: list[str], node: str) -> None:
    name = f"ready-{node}"
    cleanup.append(f"pod/{name}")
    apply(pods_cluster, pod(name, node, [{
        "name": "web", "image": IMAGE,
        "command": ["sh", "-c", "mkdir -p /www && echo ok > /www/ready && httpd -f -p 8080 -h /www"],
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1},
    }]))
    running(pods_cluster, name)
    wait_for("Ready", lambda: condition(get_pod(pods_cluster, name), "Ready") == "True", 30)
    kexec(pods_cluster, name, "rm", "/www/ready")
    wait_for("not Ready", lambda: condition(get_pod(pods_cluster, name), "Ready") == "False", 30)
    assert "0/1" in pods_cluster.kf("get", "pod", name).stdout
    kexec(pods_cluster, name, "sh", "-c", "echo ok > /www/ready")
    wait_for("Ready again", lambda: condition(get_pod(pods_cluster, name), "Ready") == "True", 30)
    assert container_status(get_pod(pods_cluster, name), "web")["restartCount"] == 0


def test_unknown_image_shows_image_pull_backoff(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    cleanup.append("pod/noimage")
    apply(pods_cluster, pod("noimage", CRUN_HOST, [{"name": "app", "image": "kubeform.invalid/nosuch:1", "command": ["true"]}]))
    wait_for("ImagePullBackOff",
             lambda: container_status(get_pod(pods_cluster, "noimage"), "app").get("state", {}).get("waiting", {}).get("reason") == "ImagePullBackOff",
             90)
    assert "ImagePullBackOff" in pods_cluster.kf("get", "pod", "noimage").stdout


def _crun_ids(cluster: PodsCluster, host: str, uid: str) -> list[str]:
    out = cluster.ssh(host, "crun --cgroup-manager=disabled list", check=False)
    return sorted(line.split()[0] for line in out.splitlines()[1:] if uid in line)


def test_agent_kill9_keeps_containers_and_ip(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    cleanup.append("pod/survivor")
    apply(pods_cluster, pod("survivor", CRUN_HOST, [
        {"name": "a", "image": IMAGE, "command": ["sleep", "3600"]},
        {"name": "b", "image": IMAGE, "command": ["sleep", "3600"]},
    ]))
    before = running(pods_cluster, "survivor")
    uid = before["metadata"]["uid"]
    ids = _crun_ids(pods_cluster, CRUN_HOST, uid)
    assert len(ids) == 3, ids  # pause + two containers
    pods_cluster.ssh(CRUN_HOST, "systemctl kill -s KILL --kill-whom=main kubeform-agent")
    time.sleep(1)
    assert _crun_ids(pods_cluster, CRUN_HOST, uid) == ids  # the containers outlive their agent
    wait_for("agent back", lambda: pods_cluster.ssh(CRUN_HOST, "systemctl is-active kubeform-agent", check=False).strip() == "active", 30)
    time.sleep(5)  # a few loops of the restarted agent
    after = get_pod(pods_cluster, "survivor")
    assert _crun_ids(pods_cluster, CRUN_HOST, uid) == ids
    assert after is not None and after["status"]["podIP"] == before["status"]["podIP"]
    for name in ("a", "b"):
        assert container_status(after, name)["restartCount"] == 0
        assert container_status(after, name)["containerID"] == container_status(before, name)["containerID"]


def test_host_reboot_brings_pods_back(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    from kubeform.lab import manager

    cleanup.append("pod/phoenix")
    # A reboot outlasts the default toleration of an unreachable node (the reconciler's
    # pod_eviction_seconds, 2 s: fast failover for controllers' pods), so a pod that must
    # stay with its node says so, as in Kubernetes: it tolerates the node's absence.
    stay = [{"key": f"node.kubernetes.io/{t}", "operator": "Exists", "effect": "NoExecute"} for t in ("unreachable", "not-ready")]
    apply(pods_cluster, pod("phoenix", CRUN_HOST, [{"name": "app", "image": IMAGE, "command": ["httpd", "-f", "-p", "8080", "-h", "/"]}],
                            tolerations=stay))
    before = running(pods_cluster, "phoenix")
    # Not waiting for SSH: the host's shutdown may wait out systemd's stop timeout for
    # container processes; the pod coming back is what this test is about.
    manager.reboot(pods_cluster.lab.name, CRUN_HOST, wait=False)

    def back() -> dict[str, Any] | None:
        obj = get_pod(pods_cluster, "phoenix")
        cs = container_status(obj, "app")
        return obj if cs.get("restartCount", 0) >= 1 and "running" in cs.get("state", {}) else None

    after = wait_for("the pod running again after the reboot", back, 300, every=2)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["status"]["phase"] == "Running" and after["status"]["podIP"]
    assert len(_crun_ids(pods_cluster, CRUN_HOST, after["metadata"]["uid"])) == 2  # pause + app, nothing doubled


@pytest.mark.parametrize("node", [CRUN_HOST, DOCKER_HOST])
def test_delete_honours_the_grace_period(pods_cluster: PodsCluster, cleanup: list[str], node: str) -> None:
    stubborn, polite = f"stubborn-{node}", f"polite-{node}"
    cleanup.extend([f"pod/{stubborn}", f"pod/{polite}"])
    apply(
        pods_cluster,
        pod(stubborn, node, [{"name": "app", "image": IMAGE, "command": ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]}],
            terminationGracePeriodSeconds=6),
        pod(polite, node, [{"name": "app", "image": IMAGE, "command": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]}],
            terminationGracePeriodSeconds=30),
    )
    running(pods_cluster, stubborn)
    running(pods_cluster, polite)
    started = time.monotonic()
    pods_cluster.kf("delete", "pod", stubborn, "--timeout", "60s")
    took = time.monotonic() - started
    assert 6 <= took <= 15, took  # SIGTERM ignored: SIGKILL after the grace period
    started = time.monotonic()
    pods_cluster.kf("delete", "pod", polite, "--timeout", "60s")
    assert time.monotonic() - started < 10  # exits on SIGTERM, long before its 30 s
    assert get_pod(pods_cluster, stubborn) is None and get_pod(pods_cluster, polite) is None
    if node == CRUN_HOST:
        assert pods_cluster.ssh(node, "crun --cgroup-manager=disabled list | grep -c stubborn || true").strip() in ("", "0")


def test_new_image_applied_restarts_the_container(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    cleanup.append("pod/reimage")
    spec = pod("reimage", CRUN_HOST, [{"name": "app", "image": IMAGE, "command": ["sleep", "3600"]}])
    apply(pods_cluster, spec)
    before = running(pods_cluster, "reimage")
    spec["spec"]["containers"][0]["image"] = "busybox:latest"
    apply(pods_cluster, spec)

    def restarted() -> dict[str, Any]:
        cs = container_status(get_pod(pods_cluster, "reimage"), "app")
        return cs if cs.get("restartCount") == 1 and "running" in cs.get("state", {}) else {}

    cs = wait_for("the container restarted with the new image", restarted, 60)
    assert cs["image"] == "busybox:latest"
    assert cs["containerID"] != container_status(before, "app")["containerID"]
    assert "definition changed, will be restarted" in events(pods_cluster, "reimage")


@pytest.mark.parametrize("node", [CRUN_HOST, DOCKER_HOST])
def test_finished_pod_keeps_its_terminated_state_and_logs(pods_cluster: PodsCluster, cleanup: list[str], node: str) -> None:
    """A pod whose only container exits at once (restartPolicy Never) shows Completed, its
    exit code, and `kubeform logs` still prints its output after the sandbox went."""
    name = f"oneshot-{node}"
    cleanup.append(f"pod/{name}")
    apply(pods_cluster, pod(name, node, [{"name": "once", "image": IMAGE, "command": ["sh", "-c", "echo finished-fine"]}],
                            restartPolicy="Never"))

    def done() -> dict[str, Any] | None:
        obj = get_pod(pods_cluster, name)
        state = container_status(obj, "once").get("state") or {}
        return obj if "terminated" in state else None

    obj = wait_for("the container's terminated state", done, 60)
    assert obj["status"]["phase"] == "Succeeded"
    term = container_status(obj, "once")["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert re.search(rf"^{name}\s+0/1\s+Completed\s", pods_cluster.kf("get", "pods").stdout, re.M)
    assert pods_cluster.kf("logs", name).stdout.strip() == "finished-fine"


def test_pod_to_pod_tcp_across_hosts_on_pod_ips(pods_cluster: PodsCluster, cleanup: list[str]) -> None:
    """A pod on the crun node and one on the docker node reach each other's pod IP over the
    overlay (flannel subnets of two hosts), in both directions."""
    for name, node in (("xhost-a", CRUN_HOST), ("xhost-b", DOCKER_HOST)):
        cleanup.append(f"pod/{name}")
        apply(pods_cluster, pod(name, node, [{
            "name": "web", "image": IMAGE,
            "command": ["sh", "-c", f"mkdir -p /www && echo hello-from-{name} > /www/index.html && exec httpd -f -p 8080 -h /www"],
        }]))
    ips = {name: running(pods_cluster, name)["status"]["podIP"] for name in ("xhost-a", "xhost-b")}
    assert ips["xhost-a"].rsplit(".", 1)[0] != ips["xhost-b"].rsplit(".", 1)[0], ips  # two subnets
    for src, dst in (("xhost-a", "xhost-b"), ("xhost-b", "xhost-a")):

        def fetched(src: str = src, dst: str = dst) -> str:
            # no -T: Debian busybox-static's wget segfaults with a timeout option
            proc = kexec(pods_cluster, src, "wget", "-q", "-O", "-", f"http://{ips[dst]}:8080/", check=False)
            return proc.stdout.strip()

        assert wait_for(f"{src} -> {dst}", fetched, 30) == f"hello-from-{dst}"
