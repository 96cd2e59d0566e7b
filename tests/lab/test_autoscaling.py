"""Measured use and the HorizontalPodAutoscaler on a real lab.

Runs on the shared ``pods_cluster`` fixture (tests/lab/conftest.py). `kubeform top pods`
shows a CPU-burning pod's rate and `top nodes` the hosts' figures; an HPA (50% of a 200m
request, 1..2 replicas, a 20 s scale-down window set here instead of the default 300 s)
scales a Deployment whose pods burn a CPU until a fixed time up to 2 and, once they stop,
back to 1. The HPA test needs the Deployment and ReplicaSet controllers (nothing makes a
Deployment's pods without them) and is skipped while the reconciler has none.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from kubeform.reconciler.controllers import CONTROLLERS
from tests.lab.conftest import PodsCluster
from tests.lab.remote import wait_for
from tests.lab.test_pods import IMAGE, apply

BURN = "while :; do :; done"


def _namespace(cluster: PodsCluster, name: str) -> None:
    apply(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def _cpu_of(out: str, name: str) -> int:
    for line in out.splitlines():
        cells = line.split()
        if cells and cells[0] == name and re.fullmatch(r"\d+m", cells[1]):
            return int(cells[1][:-1])
    return -1


def test_top_pods_and_nodes_show_what_the_agents_measure(pods_cluster: PodsCluster) -> None:
    ns = "top-lab"
    try:
        _namespace(pods_cluster, ns)
        apply(pods_cluster, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "burn", "namespace": ns},
            "spec": {"nodeName": "kf-node1", "containers": [{
                "name": "burn", "image": IMAGE, "command": ["sh", "-c", BURN],
                "resources": {"requests": {"cpu": "100m"}}}]},
        })
        wait_for("pod burn Running", lambda: json.loads(pods_cluster.kf("get", "pod", "burn", "-n", ns, "-o", "json").stdout)
                 .get("status", {}).get("phase") == "Running", timeout=90)

        seen: list[str] = []

        def busy() -> str | None:
            proc = pods_cluster.kf("top", "pods", "-n", ns, check=False)
            seen.append(proc.stdout + proc.stderr)
            return proc.stdout if _cpu_of(proc.stdout, "burn") >= 50 else None  # a share of a loaded CPU

        try:
            out = wait_for("top pods to show the burning pod's CPU", busy, timeout=90, every=3)
        except AssertionError as exc:
            pod = pods_cluster.kf("get", "pod", "burn", "-n", ns, "-o", "json", check=False).stdout
            raise AssertionError(f"{exc}\nlast top: {seen[-1:]}\npod: {pod}") from None
        assert out.splitlines()[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        containers = pods_cluster.kf("top", "pods", "-n", ns, "--containers").stdout
        assert re.search(r"^burn\s+burn\s+\d+m\s+\d+Mi$", containers, re.M), containers

        def nodes() -> str | None:
            out = pods_cluster.kf("top", "nodes").stdout
            return out if re.search(r"^kf-node1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%$", out, re.M) else None

        table = wait_for("top nodes to show figures", nodes, timeout=30, every=3)
        assert table.splitlines()[0].split() == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
    finally:
        pods_cluster.kf("delete", "pod", "burn", "-n", ns, check=False)
        pods_cluster.kf("delete", "namespace", ns, check=False)


def _has_deployments() -> bool:
    return any(c.primary in ("/registry/deployments/", "/registry/replicasets/") for c in CONTROLLERS)


@pytest.mark.skipif(not _has_deployments(), reason="no Deployment/ReplicaSet controller in this tree yet")
def test_hpa_scales_a_cpu_burning_deployment_up_and_down(pods_cluster: PodsCluster) -> None:
    ns = "hpa-lab"
    burn_seconds = 150  # a loaded 2-CPU CI host may take a minute to start the pod and sample it
    until = int(time.time()) + burn_seconds
    try:
        _namespace(pods_cluster, ns)
        script = f'while [ "$(date +%s)" -lt {until} ]; do :; done; exec sleep 100000'
        apply(pods_cluster, {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "burn", "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "burn"}}, "template": {
                "metadata": {"labels": {"app": "burn"}},
                "spec": {"containers": [{"name": "burn", "image": IMAGE, "command": ["sh", "-c", script],
                                         "resources": {"requests": {"cpu": "200m"}}}]}}},
        }, {
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "burn", "namespace": ns},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "burn"},
                     "minReplicas": 1, "maxReplicas": 2,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}],
                     "behavior": {"scaleDown": {"stabilizationWindowSeconds": 20}}},
        })

        def replicas() -> int:
            return int(json.loads(pods_cluster.kf("get", "deployment", "burn", "-n", ns, "-o", "json").stdout)["spec"]["replicas"])

        def hpa() -> dict[str, Any]:
            return dict(json.loads(pods_cluster.kf("get", "hpa", "burn", "-n", ns, "-o", "json").stdout))

        wait_for("the HPA to scale up to 2", lambda: replicas() == 2, timeout=burn_seconds - 10, every=3)
        row = pods_cluster.kf("get", "hpa", "burn", "-n", ns).stdout
        assert re.search(r"cpu: \d+%/50%", row), row
        wait_for("the burn to end", lambda: time.time() > until, timeout=burn_seconds + 5, every=2)
        wait_for("the HPA to scale down to 1", lambda: replicas() == 1, timeout=120, every=3)
        status = hpa()["status"]
        assert status["currentReplicas"] == 1 or status["desiredReplicas"] == 1, status
        events = pods_cluster.kf("get", "events", "-n", ns).stdout
        assert "New size: 2; reason: cpu resource utilization (percentage of request) above target" in events, events
        assert "New size: 1; reason: All metrics below target" in events, events
    finally:
        pods_cluster.kf("delete", "hpa", "burn", "-n", ns, check=False)
        pods_cluster.kf("delete", "deployment", "burn", "-n", ns, check=False)
        pods_cluster.kf("delete", "namespace", ns, check=False)
