"""consequences: what an apply sets in motion, from case files (changes + cluster in, lines out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api.rollout import scaled_value
from kubeform.store.consequences import ClusterView, consequences

DATA = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "store" / "consequences" / "workloads.yaml").read_text())


def _node(spec: dict[str, Any]) -> dict[str, Any]:
    res = {"cpu": spec["cpu"], "memory": spec["memory"], "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec["name"], "labels": {"kubernetes.io/hostname": spec["name"]}},
        "spec": {"taints": spec.get("taints", [])},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "allocatable": res, "capacity": res},
    }


def _pod(spec: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if "cpu" in spec:
        container["resources"] = {"requests": {"cpu": spec["cpu"]}}
    pod_spec: dict[str, Any] = {"nodeName": spec["node"], "containers": [container]}
    if "configmap" in spec:
        pod_spec["volumes"] = [{"name": "v", "configMap": {"name": spec["configmap"]}}]
    meta = {"name": spec["name"], "namespace": spec["namespace"], "labels": spec.get("labels", {}), "uid": spec["name"]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec, "status": {"phase": "Running"}}


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_case(case: dict[str, Any]) -> None:
    cluster = DATA["cluster"]
    view = ClusterView([_node(n) for n in case.get("nodes", cluster["nodes"])], [_pod(p) for p in case.get("pods", cluster["pods"])])
    got = consequences([(c["live"], c["stored"]) for c in case["changes"]], view)
    assert got == case["expect"]


@pytest.mark.parametrize(
    ("value", "total", "up", "want"),
    [(1, 10, True, 1), ("25%", 10, True, 3), ("25%", 10, False, 2), ("0%", 3, True, 0), ("100%", 3, False, 3)],
)
def test_scaled_value(value: Any, total: int, up: bool, want: int) -> None:
    assert scaled_value(value, total, up) == want
