"""Pods: scheduler decisions per second (pure) and, on a lab, apply-to-Running latency.

Parts (run all by default, or name some):
  --scheduler   1,000 simulated nodes, 10,000 pods placed one after another through
                kubeform.reconciler.scheduler.Snapshot (schedule + assume, no etcd):
                decisions/s and p50/p99 per decision. Target: >= 1,000 decisions/s.
Run: .venv/bin/python bench/pods.py [--scheduler] [--nodes N] [--pods N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.reconciler.scheduler import Snapshot

# -- scheduler (pure) ---------------------------------------------------------------------


def sim_node(i: int) -> dict[str, Any]:
    """A Ready node; the first three are tainted masters, sizes and zones vary."""
    cpu, mem = [(4, 8), (8, 32), (16, 64)][i % 3]
    taints = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}] if i < 3 else []
    if i % 50 == 7:
        taints.append({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
    return {
        "metadata": {"name": f"node-{i:04d}", "labels": {"kubernetes.io/hostname": f"node-{i:04d}", "zone": f"z{i % 4}",
                                                          "disk": "ssd" if i % 2 else "hdd"}},
        "spec": {"taints": taints},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "allocatable": {"cpu": str(cpu), "memory": f"{mem}Gi", "pods": "110"}},
    }  # fmt: skip


def sim_pod(i: int) -> dict[str, Any]:
    """Pods of 200 ReplicaSets (50 replicas each); some select ssd disks, some use hostPorts,
    some tolerate the gpu taint, a few carry init containers."""
    rs = i % 200
    spec: dict[str, Any] = {
        "containers": [{"name": "app", "image": "busybox",
                        "resources": {"requests": {"cpu": f"{100 + 50 * (rs % 5)}m", "memory": f"{64 * (1 + rs % 4)}Mi"}}}],
    }  # fmt: skip
    if rs % 10 == 1:
        spec["nodeSelector"] = {"disk": "ssd"}
    if rs % 10 == 2:
        spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["z1", "z2"]}]}]}}}  # fmt: skip
    if rs % 20 == 3:
        spec["containers"][0]["ports"] = [{"containerPort": 80, "hostPort": 8000 + rs}]
    if rs % 10 == 4:
        spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]
    if rs % 10 == 5:
        spec["initContainers"] = [{"name": "init", "image": "busybox", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]
    return {
        "metadata": {"name": f"rs{rs:03d}-{i:05d}", "namespace": "default", "labels": {"app": f"rs{rs:03d}"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"rs{rs:03d}",
                                          "uid": f"uid-{rs:03d}", "controller": True}]},
        "spec": spec,
    }  # fmt: skip


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def bench_scheduler(nodes: int = 1000, pods: int = 10000) -> dict[str, Any]:
    """Place `pods` pods on `nodes` simulated nodes, one decision (schedule + assume) at a time."""
    t0 = time.perf_counter()
    snap = Snapshot([sim_node(i) for i in range(nodes)], [])
    build = time.perf_counter() - t0
    pending = [sim_pod(i) for i in range(pods)]
    times: list[float] = []
    cpu_times: list[float] = []
    placed = 0
    start = time.perf_counter()
    cpu_start = time.process_time()
    for pod in pending:
        t = time.perf_counter()
        c = time.process_time()
        decision = snap.schedule(pod)
        if decision.node is not None:
            pod["spec"]["nodeName"] = decision.node
            snap.assume(pod, decision.node)
            placed += 1
        times.append(time.perf_counter() - t)
        cpu_times.append(time.process_time() - c)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    times.sort()
    cpu_times.sort()
    return {
        "nodes": nodes,
        "pods": pods,
        "placed": placed,
        "snapshot_build_s": build,
        "wall_s": wall,
        "decisions_per_s": pods / wall if wall else 0.0,
        "cpu_s": cpu,
        "decisions_per_cpu_s": pods / cpu if cpu else 0.0,
        "p50_ms": _percentile(times, 0.50) * 1000,
        "p99_ms": _percentile(times, 0.99) * 1000,
        "max_ms": times[-1] * 1000 if times else 0.0,
        "cpu_p50_ms": _percentile(cpu_times, 0.50) * 1000,
        "cpu_p99_ms": _percentile(cpu_times, 0.99) * 1000,
    }


def run_scheduler(args: argparse.Namespace) -> None:
    r = bench_scheduler(args.nodes, args.pods)
    print(f"scheduler: {r['pods']} pods on {r['nodes']} simulated nodes, {r['placed']} placed")
    print(f"  {r['decisions_per_s']:.0f} decisions/s (target >= 1000), wall {r['wall_s']:.2f} s")
    # CPU time shows what the code costs when other processes share the machine
    print(f"  {r['decisions_per_cpu_s']:.0f} decisions per CPU-second (CPU {r['cpu_s']:.2f} s)")
    print(f"  per decision: p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.3f} ms")
    print(f"  per decision in CPU time: p50 {r['cpu_p50_ms']:.3f} ms, p99 {r['cpu_p99_ms']:.3f} ms")
    print(f"  snapshot build: {r['snapshot_build_s'] * 1000:.1f} ms")


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {"scheduler": run_scheduler}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in PARTS:
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} part (default: all parts)")
    parser.add_argument("--nodes", type=int, default=1000, help="scheduler: simulated nodes")
    parser.add_argument("--pods", type=int, default=10000, help="scheduler: pods to place")
    args = parser.parse_args(argv)
    chosen = [name for name in PARTS if getattr(args, name)] or list(PARTS)
    for name in chosen:
        PARTS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
