"""What a container is given and how it is started and stopped, as Kubernetes does it, on
the shared pods lab, on the crun host and on the docker host (kf-node2).

- The documentation's lifecycle-events example (tests/data/docs_manifests): its postStart
  hook wrote /usr/share/message before the pod shows Running; its preStop hook quits nginx
  on delete, well within the grace period (nginx's exit ends the hook's shell too: a
  FailedPreStopHook "exited with 137" is reported then, as the kubelet reports it).
- Hook order, seen through a hostPath file: postStart (2 s long) has finished when the
  pod is Running; on delete preStop runs, then the stop signal. A postStart that fails
  gives FailedPostStartHook and the container restarts. An agent killed (-9) in the
  middle of a postStart hook does not run it again when it is back.
- Service variables: a pod started after a Service (once the leader put it in the service
  map) has REDIS_MASTER_SERVICE_HOST and the rest, and the kubernetes Service's; a Service
  made later is not in the running container; enableServiceLinks: false leaves only the
  kubernetes Service's.
- The image's StopSignal (SIGUSR1 here; nginx's is SIGQUIT) is what the container gets
  on delete, not SIGTERM.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.images import busybox, mediatypes, oci, reference
from kubeform.images.archive import host_platform
from tests.lab import standin_images
from tests.lab.conftest import DOCKER_HOST, PodsCluster
from tests.lab.remote import wait_for
from tests.lab.test_pods import CRUN_HOST, IMAGE, apply, container_status, events, get_pod, running

pytestmark = pytest.mark.lab

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs_manifests"
NODES = [CRUN_HOST, DOCKER_HOST]
STOPSIG_IMAGE = "kubeform.test/stopsignal:usr1"
MASTER = "kf-master1"
ETCDCTL = (
    "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubeform/pki/ca.crt "
    "--cert=/etc/kubeform/pki/etcd.crt --key=/etc/kubeform/pki/etcd.key"
)


def _exec(c: PodsCluster, pod: str, *command: str, ns: str = "default") -> str:
    argv = [sys.executable, "-m", "kubeform", "exec", "--cluster", str(c.cluster_dir), "-n", ns, pod, "--", *command]
    proc = subprocess.run(argv, cwd=c.workdir, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert proc.returncode == 0, f"exec {command} in {ns}/{pod}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _delete(c: PodsCluster, name: str, ns: str = "default") -> float:
    """`kubeform delete pod` (it waits until the pod is gone); the seconds it took."""
    started = time.monotonic()
    c.kf("delete", "pod", name, "-n", ns, "--timeout", "90s")
    return time.monotonic() - started


def _all_events(c: PodsCluster, ns: str = "default") -> str:
    return c.kf("get", "events", "-n", ns, check=False).stdout


def _hostpath(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "hostPath": {"path": path, "type": "DirectoryOrCreate"}}


# -- lifecycle hooks -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nginx(pods_cluster: PodsCluster) -> str:
    """The nginx stand-in (StopSignal SIGQUIT, as the real image) under the docs' name."""
    pods_cluster.kf("image", "push", str(standin_images.archive("nginx")), "--name", "nginx:latest")
    return "nginx:latest"


@pytest.mark.parametrize("node", NODES)
def test_docs_lifecycle_events_example(pods_cluster: PodsCluster, nginx: str, node: str) -> None:
    c = pods_cluster
    doc = yaml.safe_load((DOCS / "lifecycle-events.yaml").read_text())
    name = f"lifecycle-demo-{node}"
    doc["metadata"]["name"] = name
    doc["spec"]["nodeName"] = node
    try:
        apply(c, doc)
        running(c, name, 90)
        # postStart has run before the pod shows Running (the docs' `kubectl exec ... cat`)
        assert _exec(c, name, "cat", "/usr/share/message") == "Hello from the postStart handler\n"
        assert "FailedPostStartHook" not in events(c, name)
        # preStop: `nginx -s quit` and a wait for nginx to go, then the stop signal; long
        # before the 30 s grace period. (When nginx, the container's first process, is
        # gone, the hook's own shell goes with it: Kubernetes may then report the hook as
        # FailedPreStopHook, exit 137, as kubeform may. Printed, not asserted.)
        took = _delete(c, name)
        assert took < 20, took
        print(f"\n{node}: lifecycle-demo deleted in {took:.1f} s; events: "
              f"{[ln for ln in _all_events(c).splitlines() if name in ln and 'Hook' in ln]}")
    finally:
        c.kf("delete", "pod", name, "--grace-period", "1", "--timeout", "60s", check=False)


@pytest.mark.parametrize("node", NODES)
def test_hooks_run_in_order_and_a_failed_post_start_restarts(pods_cluster: PodsCluster, node: str) -> None:
    c = pods_cluster
    name, bad = f"hooks-{node}", f"badhook-{node}"
    log = f"/tmp/kf-hooks/{name}/log"
    main = "trap 'echo term >> /hook/log; exit 0' TERM; echo main >> /hook/log; while true; do sleep 1; done"
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node, "terminationGracePeriodSeconds": 20,
            "volumes": [_hostpath("hook", f"/tmp/kf-hooks/{name}")],
            "containers": [{
                "name": "app", "image": IMAGE, "command": ["sh", "-c", main],
                "volumeMounts": [{"name": "hook", "mountPath": "/hook"}],
                "lifecycle": {
                    "postStart": {"exec": {"command": ["sh", "-c", "sleep 2; echo poststart >> /hook/log"]}},
                    "preStop": {"exec": {"command": ["sh", "-c", "echo prestop >> /hook/log"]}},
                },
            }],
        },
    }
    failing = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": bad, "namespace": "default"},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, "containers": [{
            "name": "app", "image": IMAGE, "command": ["sleep", "3600"],
            "lifecycle": {"postStart": {"exec": {"command": ["badcommand"]}}}}]},
    }
    c.ssh(node, f"rm -rf /tmp/kf-hooks/{name}")
    try:
        apply(c, pod, failing)
        running(c, name, 90)
        # Running only once the 2 s postStart hook returned
        assert c.ssh(node, f"cat {log}").split() == ["main", "poststart"]
        took = _delete(c, name)
        assert took < 15, took  # preStop, then TERM ends it: not the 20 s grace
        assert c.ssh(node, f"cat {log}").split() == ["main", "poststart", "prestop", "term"]

        def restarted() -> dict[str, Any]:
            cs = container_status(get_pod(c, bad), "app")
            return cs if cs.get("restartCount", 0) >= 1 else {}

        wait_for(f"{bad} restarted after its failed postStart", restarted, 90)
        text = events(c, bad)
        assert "FailedPostStartHook" in text and "Exec lifecycle hook ([badcommand])" in text, text
    finally:
        for n in (name, bad):
            c.kf("delete", "pod", n, "--grace-period", "1", "--timeout", "60s", check=False)
        c.ssh(node, "rm -rf /tmp/kf-hooks", check=False)


def test_agent_killed_during_post_start_never_runs_it_twice(pods_cluster: PodsCluster) -> None:
    """kill -9 of the agent in the middle of a postStart hook: the hook (its exec goes on
    without the agent) is not run again by the restarted agent; the pod then runs."""
    c = pods_cluster
    node, name = CRUN_HOST, "hook-kill9"
    log = f"/tmp/kf-hooks/{name}/log"
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "nodeName": node, "terminationGracePeriodSeconds": 1,
            "volumes": [_hostpath("hook", f"/tmp/kf-hooks/{name}")],
            "containers": [{
                "name": "app", "image": IMAGE, "command": ["sleep", "3600"],
                "volumeMounts": [{"name": "hook", "mountPath": "/hook"}],
                "lifecycle": {"postStart": {"exec": {"command": [
                    "sh", "-c", "echo begin >> /hook/log; sleep 4; echo end >> /hook/log"]}}},
            }],
        },
    }
    c.ssh(node, f"rm -rf /tmp/kf-hooks/{name}")
    try:
        apply(c, pod)
        wait_for("the postStart hook begun", lambda: "begin" in c.ssh(node, f"cat {log}", check=False), 90)
        c.ssh(node, "systemctl kill -s KILL --kill-whom=main kubeform-agent")
        wait_for("agent back", lambda: c.ssh(node, "systemctl is-active kubeform-agent", check=False).strip() == "active", 30)
        after = running(c, name, 60)
        time.sleep(6)  # the first hook's end, and a few passes of the restarted agent
        assert c.ssh(node, f"cat {log}").split() == ["begin", "end"]
        assert container_status(get_pod(c, name), "app")["restartCount"] == 0
        assert container_status(after, "app")["state"].get("running")
    finally:
        c.kf("delete", "pod", name, "--grace-period", "1", "--timeout", "60s", check=False)
        c.ssh(node, "rm -rf /tmp/kf-hooks", check=False)


# -- Service variables -----------------------------------------------------------------------

@pytest.mark.parametrize("node", NODES)
def test_service_variables_in_a_pod_started_after_the_service(pods_cluster: PodsCluster, node: str) -> None:
    c = pods_cluster
    ns = f"svcenv-{node}"
    c.kf("create", "namespace", ns)
    try:
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis-master", "namespace": ns},
               "spec": {"selector": {"app": "redis"}, "ports": [{"name": "redis", "port": 6379, "targetPort": 6379}]}}
        apply(c, svc)
        key = f"/registry/kubeform/servicemap/{ns}/redis-master"
        entry = wait_for("redis-master in the service map", lambda: c.ssh(
            MASTER, f"{ETCDCTL} get --print-value-only {key}", check=False).strip(), 30)
        ip = json.loads(entry)["clusterIP"]
        kubernetes_ip = json.loads(c.kf("get", "svc", "kubernetes", "-n", "default", "-o", "json").stdout)["spec"]["clusterIP"]

        def sleeper(name: str, **spec: Any) -> dict[str, Any]:
            return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                    "spec": {"nodeName": node, "terminationGracePeriodSeconds": 1, **spec,
                             "containers": [{"name": "app", "image": IMAGE, "command": ["sleep", "3600"]}]}}

        apply(c, sleeper("links"), sleeper("nolinks", enableServiceLinks=False))
        for name in ("links", "nolinks"):
            wait_for(f"{ns}/{name} Running", lambda n=name: json.loads(c.kf(
                "get", "pod", n, "-n", ns, "-o", "json").stdout).get("status", {}).get("phase") == "Running", 90)
        env = dict(line.split("=", 1) for line in _exec(c, "links", "env", ns=ns).splitlines() if "=" in line)
        want = {
            "REDIS_MASTER_SERVICE_HOST": ip, "REDIS_MASTER_SERVICE_PORT": "6379", "REDIS_MASTER_SERVICE_PORT_REDIS": "6379",
            "REDIS_MASTER_PORT": f"tcp://{ip}:6379", "REDIS_MASTER_PORT_6379_TCP": f"tcp://{ip}:6379",
            "REDIS_MASTER_PORT_6379_TCP_PROTO": "tcp", "REDIS_MASTER_PORT_6379_TCP_PORT": "6379",
            "REDIS_MASTER_PORT_6379_TCP_ADDR": ip,
            "KUBERNETES_SERVICE_HOST": kubernetes_ip, "KUBERNETES_SERVICE_PORT": "443",
        }
        assert {k: env.get(k) for k in want} == want
        off = _exec(c, "nolinks", "env", ns=ns)
        assert "REDIS_MASTER_" not in off and f"KUBERNETES_SERVICE_HOST={kubernetes_ip}" in off

        # a Service made after the container started is not in its environment
        apply(c, dict(svc, metadata={"name": "late", "namespace": ns}))
        wait_for("late in the service map", lambda: c.ssh(
            MASTER, f"{ETCDCTL} get --print-value-only /registry/kubeform/servicemap/{ns}/late", check=False).strip(), 30)
        assert "LATE_SERVICE_HOST" not in _exec(c, "links", "env", ns=ns)
    finally:
        c.kf("delete", "ns", ns, "--wait=false", check=False)


# -- the image's StopSignal ------------------------------------------------------------------

def _stopsignal_archive(path: Path) -> Path:
    """busybox with StopSignal SIGUSR1 in its config (made here, as `image make` does)."""
    layer = oci.tar_bytes(busybox.rootfs_entries(Path(busybox.BUSYBOX).read_bytes(), busybox.applets_of(busybox.BUSYBOX)))
    config = {
        "created": busybox.CREATED, "architecture": host_platform()[1], "os": "linux",
        "config": {"Env": [busybox.PATH_ENV], "Cmd": ["sh"], "StopSignal": "SIGUSR1"},
        "rootfs": {"type": "layers", "diff_ids": [oci.digest_of(layer)]},
        "history": [{"created": busybox.CREATED, "created_by": "kubeform lab test: busybox, StopSignal SIGUSR1"}],
    }
    image = oci.BuiltImage(json.dumps(config, separators=(",", ":")).encode(), [layer], [mediatypes.OCI_LAYER])
    ref = reference.parse(STOPSIG_IMAGE)
    path.write_bytes(oci.layout_tar(image, str(ref), ref.tag or "latest"))
    return path


@pytest.fixture(scope="module")
def stopsig_image(pods_cluster: PodsCluster) -> str:
    archive = _stopsignal_archive(pods_cluster.workdir / "stopsignal.tar")
    pods_cluster.kf("image", "push", str(archive), "--name", STOPSIG_IMAGE)
    return STOPSIG_IMAGE


@pytest.mark.parametrize("node", NODES)
def test_the_images_stop_signal_stops_the_container(pods_cluster: PodsCluster, stopsig_image: str, node: str) -> None:
    c = pods_cluster
    name = f"stopsig-{node}"
    main = ("trap 'echo USR1 > /out/signal; exit 0' USR1; trap 'echo TERM > /out/signal; exit 0' TERM; "
            "while true; do sleep 1; done")
    pod = {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 30,
                 "volumes": [_hostpath("out", f"/tmp/kf-stopsig/{name}")],
                 "containers": [{"name": "app", "image": stopsig_image, "command": ["sh", "-c", main],
                                 "volumeMounts": [{"name": "out", "mountPath": "/out"}]}]},
    }
    c.ssh(node, f"rm -rf /tmp/kf-stopsig/{name}")
    try:
        apply(c, pod)
        running(c, name, 90)
        took = _delete(c, name)
        assert c.ssh(node, f"cat /tmp/kf-stopsig/{name}/signal").strip() == "USR1"
        assert took < 15, took  # it ended on the signal, not at the grace period's SIGKILL
    finally:
        c.kf("delete", "pod", name, "--grace-period", "1", "--timeout", "60s", check=False)
        c.ssh(node, "rm -rf /tmp/kf-stopsig", check=False)
