"""`kubeform logs` and `kubeform exec` against pods running on the lab, on both runtimes.

The CLI finds the pod's node, reaches it over kubeform's SSH transport (connection vars
recorded by `up` in cluster.yml) and runs kubeform/agent/runtime/podcli.py there: CRI
files read back as text, --tail, --previous, -f, exec through the node's driver (crun on
kf-node1, docker on kf-node2).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.lab.conftest import DOCKER_HOST, PodsCluster

NODES = ["kf-node1", DOCKER_HOST]


def _manifest(name: str, node: str) -> str:
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {
                "nodeName": node,
                "terminationGracePeriodSeconds": 1,
                "containers": [
                    {
                        "name": "server",
                        "image": "busybox:1.36",
                        "command": [
                            "sh",
                            "-c",
                            "mkdir -p /www; echo hello > /www/index.html; echo to-stderr >&2; "
                            "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.3; done",
                        ],
                    },
                    {
                        "name": "crash",
                        "image": "busybox:1.36",
                        "command": ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1"],
                    },
                ],
            },
        }
    )


def _pod(cluster: PodsCluster, name: str) -> dict[str, Any]:
    pod: dict[str, Any] = json.loads(cluster.kf("get", "pod", name, "-o", "json").stdout)
    return pod


def _wait(cluster: PodsCluster, name: str, ok: Any, timeout: float = 90) -> dict[str, Any]:
    deadline = time.time() + timeout
    pod: dict[str, Any] = {}
    while time.time() < deadline:
        pod = _pod(cluster, name)
        if ok(pod):
            return pod
        time.sleep(0.5)
    raise AssertionError(f"pod {name} never got there: {json.dumps(pod.get('status'))}")


def _statuses(pod: dict[str, Any]) -> dict[str, Any]:
    return {c["name"]: c for c in pod.get("status", {}).get("containerStatuses") or []}


@pytest.fixture(params=NODES)
def running_pod(request: pytest.FixtureRequest, pods_cluster: PodsCluster, tmp_path: Any) -> Iterator[str]:
    """A two-container pod on the node (server ticking, crash restarting), restarted once."""
    node = request.param
    name = f"logs-{node[-5:]}-{uuid.uuid4().hex[:6]}"
    path = tmp_path / "pod.json"
    path.write_text(_manifest(name, node))
    pods_cluster.kf("apply", "-f", str(path))
    try:
        _wait(
            pods_cluster,
            name,
            lambda p: "running" in _statuses(p).get("server", {}).get("state", {})
            and _statuses(p).get("crash", {}).get("restartCount", 0) >= 1,
        )
        yield name
    finally:
        pods_cluster.kf("delete", "pod", name, check=False)


def test_logs(pods_cluster: PodsCluster, running_pod: str) -> None:
    kf = pods_cluster.kf
    out = kf("logs", running_pod, "-c", "server").stdout.splitlines()
    # stdout and stderr reach the log on two pipes: their relative order may shift a line
    assert "to-stderr" in out[:3], out[:3]
    ticks = [line for line in out if line != "to-stderr"]
    assert ticks == [f"tick {i}" for i in range(1, len(ticks) + 1)] and len(ticks) >= 2
    tail = kf("logs", running_pod, "-c", "server", "--tail", "2").stdout.splitlines()
    assert len(tail) == 2 and all(t.startswith("tick ") for t in tail)
    current = kf("logs", running_pod, "-c", "crash").stdout.split()
    previous = kf("logs", running_pod, "-c", "crash", "--previous").stdout.split()
    assert len(current) == 1 and len(previous) == 1
    assert current[0].startswith("run-") and previous[0].startswith("run-") and current != previous
    # kubectl's messages, one line each
    several = kf("logs", running_pod, check=False)
    assert several.returncode == 1
    assert f"a container name must be specified for pod {running_pod}, choose one of: [server crash]" in several.stderr
    missing = kf("logs", "no-such-pod", check=False)
    assert missing.returncode == 1 and 'pods "no-such-pod" not found' in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_logs_follow(pods_cluster: PodsCluster, running_pod: str) -> None:
    argv = [sys.executable, "-m", "kubeform", "logs", "-f", running_pod, "-c", "server", "--tail", "1",
            "--cluster", str(pods_cluster.cluster_dir)]
    proc = subprocess.Popen(argv, cwd=pods_cluster.workdir, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        seen = [proc.stdout.readline().strip() for _ in range(5)]
    finally:
        proc.terminate()
        proc.wait(10)
    ticks = [int(s.split()[1]) for s in seen]
    assert ticks == list(range(ticks[0], ticks[0] + 5)), seen
    node = _pod(pods_cluster, running_pod)["spec"]["nodeName"]
    deadline = time.time() + 10  # the follower on the node notices its reader is gone
    while time.time() < deadline:
        # [l]: the pattern must not match the shell running pgrep itself
        left = pods_cluster.ssh(node, f"pgrep -f 'podcli [l]ogs .*--pod {running_pod}' || true").strip()
        if not left:
            break
        time.sleep(0.5)
    assert not left, "the follower outlived its client"


def test_logs_follow_goes_on_into_the_next_attempt(pods_cluster: PodsCluster, running_pod: str) -> None:
    """-f on a crash-looping container: its current attempt, then the next one's file
    (back-off after the first restart: 10 to 20 s)."""
    argv = [sys.executable, "-m", "kubeform", "logs", "-f", running_pod, "-c", "crash",
            "--cluster", str(pods_cluster.cluster_dir)]
    proc = subprocess.Popen(argv, cwd=pods_cluster.workdir, stdout=subprocess.PIPE, text=True)
    runs: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("run-"):
                runs.append(line.strip())

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.time() + 90
        while len(runs) < 2 and time.time() < deadline:
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(10)
    assert len(runs) == 2 and runs[0] != runs[1], runs


def _exec(cluster: PodsCluster, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`kubeform exec ARGS`, the cluster named by $KUBEFORM_CLUSTER: everything after `--`
    is the command, so cluster.kf's trailing --cluster would land in it."""
    env = dict(os.environ, KUBEFORM_CLUSTER=str(cluster.cluster_dir))
    return subprocess.run(
        [sys.executable, "-m", "kubeform", "exec", *args], cwd=cluster.workdir, env=env,
        input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_exec(pods_cluster: PodsCluster, running_pod: str) -> None:
    pod = running_pod
    ok = _exec(pods_cluster, pod, "-c", "server", "--", "cat", "/www/index.html")
    assert (ok.returncode, ok.stdout) == (0, "hello\n"), ok.stderr
    assert _exec(pods_cluster, pod, "-c", "server", "--", "sh", "-c", "exit 7").returncode == 7
    piped = _exec(pods_cluster, "-i", pod, "-c", "server", "--", "sh", "-c", "tr a-z A-Z", stdin="via stdin\n")
    assert (piped.returncode, piped.stdout) == (0, "VIA STDIN\n"), piped.stderr
    tty = _exec(pods_cluster, "-t", pod, "-c", "server", "--", "tty")
    # (crun's exec --tty has been seen to print the output through its colored logger)
    assert "/dev/pts/" in tty.stdout and tty.returncode == 0, tty.stdout + tty.stderr
    assert _exec(pods_cluster, pod, "-c", "server", "--", "hostname").stdout.strip() == pod
    several = _exec(pods_cluster, pod, "--", "true")
    assert several.returncode == 1
    assert f"a container name must be specified for pod {pod}, choose one of: [server crash]" in several.stderr
    unknown = _exec(pods_cluster, pod, "-c", "nope", "--", "true")
    assert unknown.returncode == 1 and unknown.stderr.strip().endswith(f"container nope is not valid for pod {pod}")
