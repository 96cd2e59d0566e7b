"""Shorthand for the scheduler's case files (tests/data/scheduler/*.yaml) -> API objects.

A node: {name, cpu: "4", memory: 8Gi, pods: "110", labels, taints: ["k=v:Effect"],
ready: true|false|Unknown|absent, unschedulable, capacity_only, count: N (name-0..)}.
A pod: {name, namespace, uid, node, cpu, memory, labels, owner, phase, deleting, hostPorts,
schedulerName, spec (merged into spec; its containers replace the default one)}.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from kubeform.agent.node import parse_taints

DATA = Path(__file__).parents[3] / "data" / "scheduler"
PLACE = DATA / "place"
Obj = dict[str, Any]


def nodes(specs: list[Obj]) -> list[Obj]:
    out = []
    for spec in specs:
        if "count" in spec:
            for i in range(spec["count"]):
                out.append(node({**spec, "name": f"{spec['name']}-{i}"}))
        else:
            out.append(node(spec))
    return out


def node(spec: Obj) -> Obj:
    if "object" in spec:
        return copy.deepcopy(spec["object"])
    resources = {"cpu": str(spec.get("cpu", "4")), "memory": str(spec.get("memory", "8Gi")), "pods": str(spec.get("pods", "110"))}
    status: Obj = {"capacity" if spec.get("capacity_only") else "allocatable": resources}
    ready = spec.get("ready", True)
    if ready != "absent":
        value = {True: "True", False: "False"}.get(ready, ready)
        status["conditions"] = [{"type": "Ready", "status": value}]
    node_spec: Obj = {}
    if spec.get("taints"):
        node_spec["taints"] = parse_taints(spec["taints"])
    if spec.get("unschedulable"):
        node_spec["unschedulable"] = True
    labels = {"kubernetes.io/hostname": spec["name"], **(spec.get("labels") or {})}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": spec["name"], "labels": labels}, "spec": node_spec, "status": status}


def pod(spec: Obj) -> Obj:
    requests = {k: str(spec[k]) for k in ("cpu", "memory") if k in spec}
    container: Obj = {"name": "app", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": requests}
    if spec.get("hostPorts"):
        container["ports"] = [p if isinstance(p, dict) else {"containerPort": p, "hostPort": p} for p in spec["hostPorts"]]
    pod_spec: Obj = {"containers": [container]}
    pod_spec.update(copy.deepcopy(spec.get("spec") or {}))
    if spec.get("node"):
        pod_spec["nodeName"] = spec["node"]
    if spec.get("schedulerName"):
        pod_spec["schedulerName"] = spec["schedulerName"]
    meta: Obj = {"name": spec["name"], "namespace": spec.get("namespace", "default")}
    if spec.get("labels"):
        meta["labels"] = dict(spec["labels"])
    if spec.get("owner"):
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": spec["owner"], "uid": "uid-" + spec["owner"], "controller": True}
        ]
    if spec.get("uid"):
        meta["uid"] = spec["uid"]
    if spec.get("deleting"):
        meta["deletionTimestamp"] = "2024-01-02T03:04:05Z"
    obj: Obj = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": pod_spec}
    if spec.get("phase"):
        obj["status"] = {"phase": spec["phase"]}
    return obj


def load_cases() -> list[tuple[str, Obj]]:
    """(file stem / case name, case) for every placement case file (data/scheduler/place/)."""
    out = []
    for path in sorted(PLACE.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            out.append((f"{path.stem}/{case['name']}", case))
    return out
