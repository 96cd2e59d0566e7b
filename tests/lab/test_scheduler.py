"""The scheduler on the shared pods lab, as a user sees it.

- every Node publishes allocatable (capacity minus the agent's 100m / 256Mi reserve); the
  master carries node-role.kubernetes.io/control-plane:NoSchedule, the workers no taint;
- a pod pinned to the master without a toleration stays Pending with Kubernetes' message
  ("0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 node(s) didn't
  match Pod's node affinity/selector."); with the toleration it is bound to the master;
- four pods with the same labels spread two and two over the workers, none on the master.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.lab.conftest import PodsCluster

pytestmark = pytest.mark.lab

TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _manifest(master: str) -> str:
    def pod(name: str, extra: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
        spec = {"containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"],
                                "resources": {"requests": {"cpu": "10m", "memory": "8Mi"}}}], **extra}  # fmt: skip
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {"test": name}}, "spec": spec}

    pin = {"nodeSelector": {"kubernetes.io/hostname": master}}
    docs = [
        pod("sched-master-no", pin),
        pod("sched-master-yes", {**pin, "tolerations": [{"key": TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}]}),
        *(pod(f"sched-spread-{i}", {}, {"app": "sched-spread"}) for i in range(4)),
    ]
    return yaml.safe_dump_all(docs, sort_keys=False)


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _pods(c: PodsCluster) -> dict[str, dict[str, Any]]:
    items = json.loads(c.kf("get", "pods", "-o", "json").stdout).get("items") or []
    return {p["metadata"]["name"]: p for p in items if p["metadata"]["name"].startswith("sched-")}


def _masters(c: PodsCluster) -> list[str]:
    data = yaml.safe_load(c.inventory.read_text())
    return list((data["all"]["children"]["masters"].get("hosts") or {}).keys())


def test_nodes_publish_taints_and_allocatable(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    masters = set(_masters(c))
    nodes = json.loads(c.kf("get", "nodes", "-o", "json").stdout)["items"]
    assert {n["metadata"]["name"] for n in nodes} == {h.name for h in c.lab.hosts}
    for n in nodes:
        name, spec, status = n["metadata"]["name"], n.get("spec") or {}, n["status"]
        assert spec.get("taints", []) == ([TAINT] if name in masters else []), (name, spec)
        cap, alloc = status["capacity"], status["allocatable"]
        millis = int(cap["cpu"]) * 1000 - 100
        assert alloc["cpu"] == (str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"), (name, alloc)
        assert alloc["memory"] == f"{int(cap['memory'][:-2]) - 262144}Ki", (name, alloc)
        assert alloc["pods"] == cap["pods"] == "110"


def test_taints_selectors_and_spreading(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    masters = _masters(c)
    assert len(masters) == 1 and len(c.lab.hosts) == 3, "written for the 3-host pods lab (one master)"
    master = masters[0]
    workers = sorted(h.name for h in c.lab.hosts if h.name != master)
    manifest: Path = c.workdir / "sched-pods.yaml"
    manifest.write_text(_manifest(master))
    c.kf("apply", "-f", str(manifest))
    try:
        names = [f"sched-spread-{i}" for i in range(4)] + ["sched-master-yes"]

        def all_bound() -> dict[str, dict[str, Any]] | None:
            pods = _pods(c)
            return pods if all(pods.get(n, {}).get("spec", {}).get("nodeName") for n in names) else None

        bound = _wait("pods bound", all_bound, 60)
        assert bound["sched-master-yes"]["spec"]["nodeName"] == master
        spread = sorted(bound[f"sched-spread-{i}"]["spec"]["nodeName"] for i in range(4))
        assert spread == sorted(workers * 2), spread

        def refused() -> str:
            pod = _pods(c).get("sched-master-no", {})
            cond = [x for x in pod.get("status", {}).get("conditions") or [] if x.get("type") == "PodScheduled"]
            return cond[0].get("message", "") if cond and cond[0].get("status") == "False" else ""

        message = _wait("sched-master-no unschedulable", refused, 30)
        assert message == (
            "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
            "2 node(s) didn't match Pod's node affinity/selector."
        )
        assert "spec" in _pods(c)["sched-master-no"] and not _pods(c)["sched-master-no"]["spec"].get("nodeName")
        events = c.kf("get", "events").stdout
        assert "pod/sched-master-no" in events and "untolerated taint" in events, events
    finally:
        c.kf("delete", "-f", str(manifest), "--grace-period=0", "--force", check=False)
