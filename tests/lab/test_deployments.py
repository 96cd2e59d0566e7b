"""ReplicaSets and Deployments on the shared pods lab (``pods_cluster``), as a user sees them.

- a ReplicaSet replaces a deleted pod, scales up and down;
- a Deployment's image change (busybox:latest -> busybox:1.36, maxSurge 1 / maxUnavailable
  1 over 4 replicas) rolls with at most 5 pods and at least 3 ready ones at every sampled
  moment; ``rollout history`` lists both revisions and ``rollout undo`` brings the previous
  template back;
- ``rollout status`` exits non-zero on a stalled rollout (an image no registry has,
  progressDeadlineSeconds 10).

Everything lives in the namespace ``kfdeploy``, deleted at the end of each test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.lab.conftest import PodsCluster
from tests.lab.remote import wait_for

pytestmark = pytest.mark.lab

NS = "kfdeploy"


def _template(image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "c", "image": image, "command": ["sleep", "3600"]}],
        },
    }


def _apply(c: PodsCluster, obj: dict[str, Any]) -> None:
    path = c.workdir / f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
    path.write_text(yaml.safe_dump(obj))
    c.kf("apply", "-f", str(path))


def _pods(c: PodsCluster) -> list[dict[str, Any]]:
    proc = c.kf("get", "pods", "-n", NS, "-o", "json", check=False)
    if proc.returncode != 0:
        return []
    data = json.loads(proc.stdout)
    return list(data.get("items", [data] if data.get("kind") == "Pod" else []))


def _active(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if not p["metadata"].get("deletionTimestamp") and p.get("status", {}).get("phase") not in ("Succeeded", "Failed")]


def _ready(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p for p in _active(pods)
        if any(x.get("type") == "Ready" and x.get("status") == "True" for x in p.get("status", {}).get("conditions") or [])
    ]


CLUSTER: list[PodsCluster] = []


def _diagnose() -> str:
    """What a failed wait leaves for the reader: pods, events, the reconciler's log."""
    if not CLUSTER:
        return ""
    c = CLUSTER[0]
    parts = [
        c.kf("get", "pods", "-n", NS, "-o", "wide", check=False).stdout,
        c.kf("get", "rs,deploy", "-n", NS, check=False).stdout,
        c.kf("get", "events", "-n", NS, check=False).stdout[-3000:],
        c.ssh("kf-master1", "journalctl -u kubeform-reconciler --no-pager | tail -40", check=False),
    ]
    return "\n".join(parts)


def _wait(what: str, check: Any, timeout: float = 180, every: float = 1.0) -> Any:
    return wait_for(what, check, timeout, every, diagnose=_diagnose)


@pytest.fixture
def ns(pods_cluster: PodsCluster) -> Iterator[str]:
    CLUSTER[:] = [pods_cluster]
    pods_cluster.kf("create", "namespace", NS)
    try:
        yield NS
    finally:
        pods_cluster.kf("delete", "namespace", NS, "--grace-period", "1", "--timeout", "120s", check=False)


def test_replicaset_replaces_a_deleted_pod_and_scales(pods_cluster: PodsCluster, ns: str) -> None:
    c = pods_cluster
    _apply(c, {
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": _template("busybox:1.36")},
    })
    first = _wait("2 ready pods", lambda: [p["metadata"]["name"] for p in _ready(_pods(c))] if len(_ready(_pods(c))) == 2 else None)
    for _ in range(5):  # the agent writes the pod's status now and then: a conflict says re-run
        proc = c.kf("delete", "pod", first[0], "-n", ns, "--wait=false", check=False)
        if proc.returncode == 0 or "conflict" not in proc.stderr:
            break
    assert proc.returncode == 0, proc.stderr
    names = _wait(
        "a replacement",
        lambda: sorted(p["metadata"]["name"] for p in _ready(_pods(c))) if len(_ready(_pods(c))) == 2 and first[0] not in [p["metadata"]["name"] for p in _active(_pods(c))] else None,
    )
    assert first[1] in names and first[0] not in names
    c.kf("scale", "rs/rs", "-n", ns, "--replicas", "4")
    _wait("4 ready pods", lambda: len(_ready(_pods(c))) == 4)
    c.kf("scale", "rs/rs", "-n", ns, "--replicas", "1")
    _wait("1 pod left", lambda: len(_active(_pods(c))) == 1 and len(_pods(c)) == 1, timeout=60)
    rs = json.loads(c.kf("get", "rs", "rs", "-n", ns, "-o", "json").stdout)
    assert rs["status"]["replicas"] == 1 and rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
    table = c.kf("get", "rs", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table[1].split()[:4] == ["rs", "1", "1", "1"]


def test_deployment_rolls_within_bounds_and_undoes(pods_cluster: PodsCluster, ns: str) -> None:
    c = pods_cluster
    _apply(c, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
            "template": _template("busybox:latest"),
        },
    })
    c.kf("rollout", "status", "deployment/web", "-n", ns, "--timeout", "180s")
    assert len(_ready(_pods(c))) == 4
    c.kf("set", "image", "deployment/web", "c=busybox:1.36", "-n", ns)
    samples = []
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        pods = _pods(c)
        active, ready = len(_active(pods)), len(_ready(pods))
        images = {p["spec"]["containers"][0]["image"] for p in _active(pods)}
        samples.append((active, ready, sorted(images)))
        assert active <= 5, f"maxSurge broken: {samples}"
        assert ready >= 3, f"maxUnavailable broken: {samples}"
        if images == {"busybox:1.36"} and ready == 4 and active == 4:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"rollout did not finish: {samples[-5:]}")
    assert any(len(s[2]) == 2 for s in samples), "no sample saw both images: the rollout was not sampled"
    out = c.kf("rollout", "status", "deployment/web", "-n", ns, "--timeout", "60s").stdout
    assert 'deployment "web" successfully rolled out' in out
    history = c.kf("rollout", "history", "deployment/web", "-n", ns).stdout.splitlines()
    assert [line.split()[0] for line in history[2:4]] == ["1", "2"]
    deploy = json.loads(c.kf("get", "deploy", "web", "-n", ns, "-o", "json").stdout)
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    table = c.kf("get", "deploy", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]

    assert "rolled back" in c.kf("rollout", "undo", "deployment/web", "-n", ns).stdout
    c.kf("rollout", "status", "deployment/web", "-n", ns, "--timeout", "180s")
    _wait("busybox:latest back", lambda: {p["spec"]["containers"][0]["image"] for p in _active(_pods(c))} == {"busybox:latest"} and len(_ready(_pods(c))) == 4)
    deploy = json.loads(c.kf("get", "deploy", "web", "-n", ns, "-o", "json").stdout)
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:latest"
    assert deploy["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"


def test_rollout_status_fails_on_a_stalled_rollout(pods_cluster: PodsCluster, ns: str) -> None:
    c = pods_cluster
    _apply(c, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "stuck", "namespace": ns},
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": 10,
            "selector": {"matchLabels": {"app": "web"}},
            "template": _template("kubeform.invalid/no-such-image:1"),
        },
    })
    started = time.monotonic()
    proc = c.kf("rollout", "status", "deployment/stuck", "-n", ns, "--timeout", "120s", check=False)
    assert proc.returncode != 0, proc.stdout
    assert 'deployment "stuck" exceeded its progress deadline' in proc.stderr
    assert time.monotonic() - started < 60
