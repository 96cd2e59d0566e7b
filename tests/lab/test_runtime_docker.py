"""The docker driver on a lab host (kf-node2 runs docker in the pods lab), driven directly.

kubeform/agent/runtime/docker.py builds pods as the kubelet's dockershim did: a pause
container with --network none wired by CNI through /proc/<pid>/ns/net, app containers in its
network and IPC namespaces. Checked here on the real docker (20.10 with the crun wrapper
site.yml installs on lab hosts): the image comes from the cluster registry (mirror first,
no internet), two containers talk over localhost, output lands in CRI files, exit codes
and times come back from docker inspect, and removal leaves nothing behind.
"""

from __future__ import annotations

import json
import shlex
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab.conftest import DOCKER_HOST, PodsCluster

SCRIPT = r'''
import json, os, sys, time
from kubeform.agent.config import load_config
from kubeform.agent.runtime.docker import DockerDriver, wait_exited
from kubeform.agent.runtime.driver import ContainerSpec, SandboxSpec

uid, step = sys.argv[1], sys.argv[2]
d = DockerDriver.from_config(load_config("/etc/kubeform/agent.json"))
logs = "/var/log/pods/default_duo_%s" % uid
out = {}
if step == "run":
    t0 = time.time()
    img = d.ensure_image("busybox:1.36", "IfNotPresent")
    out["pull_s"] = time.time() - t0
    t0 = time.time()
    sb = d.run_sandbox(SandboxSpec(uid, "default", "duo", "duo", []))
    out["sandbox_s"] = time.time() - t0
    again = d.run_sandbox(SandboxSpec(uid, "default", "duo", "duo", []))
    out["sandbox"] = sb._asdict()
    out["sandbox_again_same"] = again.id == sb.id and again.ip == sb.ip

    def spec(name, script, attempt=0):
        return ContainerSpec(uid, "default", "duo", name, attempt, img, ["sh", "-c", script],
                             img.env + ["WHO=" + name], "", None, None, [],
                             "%s/%s/%d.log" % (logs, name, attempt), "duo")

    t0 = time.time()
    server = d.start_container(sb, spec("server",
        "mkdir -p /www && echo hello-from-server > /www/index.html && echo serving && echo to-stderr >&2 "
        "&& exec httpd -f -p 8080 -h /www"))
    out["start_s"] = time.time() - t0
    client = d.start_container(sb, spec("client",
        "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/index.html && break; sleep 0.2; done; "
        "hostname; echo $WHO; exit 3"))
    again = d.start_container(sb, spec("client", "exit 99"))
    out["start_again_same"] = again.id == client.id
    done = wait_exited(d, client.id, 20)
    out["client"] = done._asdict() if done else None
    time.sleep(1.0)  # the log shim follows docker's json log
    out["containers"] = [c._asdict() for c in d.list_containers() if c.pod_uid == uid]
    out["sandboxes"] = [s._asdict() for s in d.list_sandboxes() if s.pod_uid == uid]
    out["usage"] = d.usage(uid)
    out["server_id"] = server.id
    out["exec_argv"] = d.exec_argv(server.id, ["cat", "/www/index.html"], False, False)
    for name in ("server", "client"):
        with open("%s/%s/0.log" % (logs, name)) as f:
            out[name + "_log"] = f.read().splitlines()
    t0 = time.time()
    d.stop_container(server.id, 5)
    out["stop_s"] = time.time() - t0
    out["server_after_stop"] = [c.state for c in d.list_containers() if c.id == server.id]
elif step == "remove":
    for c in d.list_containers():  # as the lifecycle does: exited containers outlive the sandbox
        if c.pod_uid == uid:
            d.remove_container(c.id)
    d.remove_sandbox(uid)
    d.remove_sandbox(uid)  # gone already is fine
    out["containers"] = [c.id for c in d.list_containers() if c.pod_uid == uid]
    out["sandboxes"] = [s.id for s in d.list_sandboxes() if s.pod_uid == uid]
print(json.dumps(out))
'''


def _driver(cluster: PodsCluster, uid: str, step: str) -> dict[str, Any]:
    cmd = f"cd /opt/kubeform && PYTHONPATH=/opt/kubeform python3 -c {shlex.quote(SCRIPT)} {uid} {step}"
    out: dict[str, Any] = json.loads(cluster.ssh(DOCKER_HOST, cmd).strip().splitlines()[-1])
    return out


@pytest.fixture
def agent_paused(pods_cluster: PodsCluster) -> Iterator[None]:
    """The node's agent stopped meanwhile: its runtime would remove a sandbox of a pod it
    does not know (this test's) as an orphan. Its pods keep running (KillMode=process)."""
    pods_cluster.ssh(DOCKER_HOST, "systemctl stop kubeform-agent")
    try:
        yield
    finally:
        pods_cluster.ssh(DOCKER_HOST, "systemctl start kubeform-agent")


@pytest.mark.usefixtures("agent_paused")
def test_docker_driver_pod_with_two_containers(pods_cluster: PodsCluster) -> None:
    uid = str(uuid.uuid4())
    docker_ps = f"docker ps -aq --filter label=io.kubernetes.pod.uid={uid}"
    try:
        out = _driver(pods_cluster, uid, "run")
        sb = out["sandbox"]
        assert sb["ready"] and sb["ip"].startswith("10.244.") and sb["netns_path"].startswith("/proc/")
        assert out["sandbox_again_same"] and out["start_again_same"], "run_sandbox/start_container are idempotent"
        client = out["client"]
        assert client["state"] == "exited" and client["exit_code"] == 3 and client["reason"] == "Error"
        assert client["finished_at"].endswith("Z") and client["started_at"] <= client["finished_at"]
        texts = [line.split(" ", 3) for line in out["client_log"]]
        assert [t[3] for t in texts] == ["hello-from-server", "duo", "client"], "localhost and hostname shared"
        assert all(t[1] == "stdout" and t[2] == "F" for t in texts)
        server_log = [line.split(" ", 3)[1:] for line in out["server_log"]]
        assert ["stdout", "F", "serving"] in server_log and ["stderr", "F", "to-stderr"] in server_log
        states = {c["name"]: c["state"] for c in out["containers"]}
        assert states == {"server": "running", "client": "exited"}
        assert [s["ip"] for s in out["sandboxes"]] == [sb["ip"]]
        assert out["usage"]["memory_bytes"] > 0
        assert out["exec_argv"][:2] == ["docker", "exec"]
        assert out["server_after_stop"] == ["exited"]
        names = pods_cluster.ssh(DOCKER_HOST, f"docker ps -a --format '{{{{.Names}}}}' --filter label=io.kubernetes.pod.uid={uid}")
        assert sorted(names.split()) == sorted(
            [f"k8s_POD_duo_default_{uid}_0", f"k8s_server_duo_default_{uid}_0", f"k8s_client_duo_default_{uid}_0"]
        )
        print("docker driver timings:", {k: round(v, 3) for k, v in out.items() if k.endswith("_s")})
    finally:
        gone = _driver(pods_cluster, uid, "remove")
        pods_cluster.ssh(DOCKER_HOST, f"rm -rf /var/log/pods/default_duo_{uid}", check=False)
    assert gone == {"containers": [], "sandboxes": []}
    assert pods_cluster.ssh(DOCKER_HOST, docker_ps).strip() == ""
    assert pods_cluster.ssh(DOCKER_HOST, f"ls /var/lib/kubeform/pods/{uid} 2>&1 || true").find("No such file") >= 0


@pytest.mark.parametrize("ref", ["nosuch/image:9"])
def test_docker_driver_unknown_image_is_a_pull_error(pods_cluster: PodsCluster, ref: str) -> None:
    script = (
        "import json\nfrom kubeform.agent.config import load_config\n"
        "from kubeform.agent.runtime.docker import DockerDriver\n"
        "from kubeform.agent.runtime.driver import PullError\n"
        "d = DockerDriver.from_config(load_config('/etc/kubeform/agent.json'))\n"
        f"try:\n    d.ensure_image({ref!r}, 'IfNotPresent')\n    print(json.dumps(None))\n"
        "except PullError as e:\n    print(json.dumps([e.reason, e.message]))\n"
    )
    out = json.loads(
        pods_cluster.ssh(DOCKER_HOST, f"PYTHONPATH=/opt/kubeform python3 -c {shlex.quote(script)}").strip()
    )
    assert out is not None and out[0] == "ErrImagePull"
    assert ref in out[1] and "cluster registry" in out[1]
