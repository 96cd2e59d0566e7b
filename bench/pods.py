"""Pods: scheduler decisions per second (pure) and, on a lab, apply-to-Running latency.

Parts (run all by default, or name some):
  --scheduler   1,000 simulated nodes, 10,000 pods placed one after another through
                kubeform.reconciler.scheduler.Snapshot (schedule + assume, no etcd):
                decisions/s and p50/p99 per decision. Target: >= 1,000 decisions/s.
  --lab         on a running cluster (default the `make demo` lab, .kubeform/lab):
                `kubeform apply` of N bare busybox pods (default 30) in namespace
                kubeform-bench, then the time from the start of apply to each pod's
                phase Running with every container running, as a watch of the store
                started before the apply sees it (--lab-poll: by listing every 50 ms), (p50,
                p99, max) and to all Running; the pods and namespace are deleted
                afterwards. --lab-name NAME (root, the lab on this machine): CPU-seconds
                each lab host spent until all ran, by kind of process. Targets: p99 under
                2 s, all 30 Running in under 10 s.
Run: .venv/bin/python bench/pods.py [--scheduler] [--nodes N] [--pods N]
     sudo .venv/bin/python bench/pods.py --lab [--cluster DIR] [--lab-pods N] [--lab-name NAME] [--lab-poll]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

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


# -- lab: apply to Running ------------------------------------------------------------------

BENCH_NS = "kubeform-bench"


def _machine_pidns(lab: str) -> dict[str, str]:
    """host name -> pid namespace of the lab's machines (the children of systemd-nspawn -M <lab>-<host>)."""
    nspawn: dict[int, str] = {}
    parent: dict[int, int] = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
            parent[int(p)] = int(Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if cmd[0].endswith(b"systemd-nspawn") and b"-M" in cmd[:-1]:
            machine = cmd[cmd.index(b"-M") + 1].decode()
            if machine.startswith(lab + "-"):
                nspawn[int(p)] = machine[len(lab) + 1 :]
    out: dict[str, str] = {}
    for pid, ppid in parent.items():
        if ppid in nspawn:
            try:
                out[os.readlink(f"/proc/{pid}/ns/pid")] = nspawn[ppid]
            except OSError:
                pass
    return out


def lab_cpu(lab: str) -> dict[str, dict[str, tuple[str, float, float]]]:
    """Per lab host, per process (pid:start time): (command, own CPU-s, reaped children's CPU-s)."""
    hosts = _machine_pidns(lab)
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, dict[str, tuple[str, float, float]]] = {h: {} for h in hosts.values()}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            host = hosts.get(os.readlink(f"/proc/{p}/ns/pid"))
            if host is None:
                continue
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        out[host][f"{p}:{f[19]}"] = (cmd, (int(f[11]) + int(f[12])) / tick, (int(f[13]) + int(f[14])) / tick)
    return out


def _what(cmd: str) -> str:
    for name in ("runtime.shim", "kubeform.agent", "kubeform.reconciler", "etcd", "sshd", "crun", "registry"):
        if name in cmd:
            return name
    return cmd.split(" ", 1)[0].rsplit("/", 1)[-1] or "?"


def cpu_between(before: dict[str, dict[str, tuple[str, float, float]]],
                after: dict[str, dict[str, tuple[str, float, float]]]) -> dict[str, dict[str, float]]:
    """CPU-seconds spent per host and per kind of process between two snapshots (processes
    that ended in between count through their parents' reaped-children time)."""
    out: dict[str, dict[str, float]] = {}
    for host, procs in after.items():
        per = out.setdefault(host, {})
        for key, (cmd, own, kids) in procs.items():
            _, own0, kids0 = before.get(host, {}).get(key, (cmd, 0.0, 0.0))
            what = _what(cmd)
            per[what] = per.get(what, 0.0) + own - own0
            if kids > kids0:
                per[what + " (children)"] = per.get(what + " (children)", 0.0) + kids - kids0
    return out


def _kf(*args: str, check: bool = True) -> None:
    subprocess.run([sys.executable, "-m", "kubeform", *args], check=check, stdout=subprocess.DEVNULL)


def _wait_namespace_gone(store: Any, timeout: float = 120.0) -> None:
    """A previous run's namespace may still be Terminating (apply refuses objects in it):
    wait until the reconciler has emptied and removed it."""
    from kubeform.api import kinds

    deadline = time.monotonic() + timeout
    while store.get(kinds.BY_KIND["Namespace"], None, BENCH_NS) is not None:
        if time.monotonic() > deadline:
            raise SystemExit(f"namespace {BENCH_NS} from an earlier run is still there after {timeout:.0f} s")
        time.sleep(0.2)


def _pods_manifest(n: int) -> str:
    docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": BENCH_NS}}]
    for i in range(n):
        docs.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"bench-{i:03d}", "namespace": BENCH_NS, "labels": {"app": "bench"}},
            "spec": {"terminationGracePeriodSeconds": 1, "containers": [
                {"name": "c", "image": "busybox:1.36", "command": ["sleep", "3600"]}]},
        })  # fmt: skip
    return yaml.safe_dump_all(docs)


def _running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    return status.get("phase") == "Running" and bool(statuses) and all(
        "running" in (c.get("state") or {}) for c in statuses
    )


def _watch_running(store: Any, start_revision: int, start: float, n: int, deadline: float,
                   seen: dict[str, float], node_of: dict[str, str],
                   steps: dict[str, dict[str, float]] | None = None) -> None:
    """Follow the bench's pods from start_revision on; note when each is first Running
    (and in ``steps``, when each was first seen created and bound to a node)."""
    from kubeform.api.etcd import EtcdError

    prefix = f"/registry/pods/{BENCH_NS}/"
    revision = start_revision
    while len(seen) < n and time.monotonic() < deadline:
        try:
            for kind, _key, pod, mod_revision in store.watch(prefix, revision, timeout=1.0):
                revision = mod_revision + 1
                if kind == "PUT" and pod is not None and steps is not None:
                    now = time.monotonic() - start
                    first = steps.setdefault(pod["metadata"]["name"], {})
                    first.setdefault("created", now)
                    if (pod.get("spec") or {}).get("nodeName"):
                        first.setdefault("bound", now)
                if kind == "PUT" and pod is not None and _running(pod):
                    name = pod["metadata"]["name"]
                    if name not in seen:
                        seen[name] = time.monotonic() - start
                        node_of[name] = (pod.get("spec") or {}).get("nodeName", "")
                if len(seen) >= n or time.monotonic() >= deadline:
                    return
        except (TimeoutError, EtcdError, OSError):  # quiet for a second, or a broken stream
            continue


def bench_lab(cluster: str, n: int, timeout: float = 120.0, lab: str = "", poll: bool = False) -> dict[str, Any]:
    """Apply n pods and time each pod to Running as the operator sees it: through a watch
    of the store started before the apply (each PUT is timed as it arrives), or with
    ``poll`` by listing the pods every 50 ms (a cost to the lab's etcd and CPU). With
    ``lab`` (root, lab on this machine) also the CPU-seconds each lab host spent until
    all ran."""
    import threading

    from kubeform.api import kinds
    from kubeform.bootstrap.clusterdir import ClusterDir
    from kubeform.store.client import Store

    store = Store.from_cluster(ClusterDir.find(cluster))
    pod_kind = kinds.BY_KIND["Pod"]
    _wait_namespace_gone(store)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(_pods_manifest(n))
    seen: dict[str, float] = {}
    node_of: dict[str, str] = {}
    steps: dict[str, dict[str, float]] = {}
    cpu_before = lab_cpu(lab) if lab else {}
    cpu_after = cpu_before
    try:
        watcher = None
        own_cpu0 = time.process_time()
        children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        if not poll:
            watcher = threading.Thread(target=_watch_running, daemon=True, args=(
                Store.from_cluster(ClusterDir.find(cluster)), store.revision() + 1, start, n, start + timeout, seen, node_of, steps))
            watcher.start()
        _kf("apply", "-f", f.name, "--cluster", cluster)
        applied = time.monotonic() - start
        children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        apply_cpu = children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
        if watcher is not None:
            watcher.join(timeout)
        while poll and len(seen) < n and time.monotonic() - start < timeout:
            now = time.monotonic() - start
            for pod in store.list(pod_kind, BENCH_NS):
                name = pod["metadata"]["name"]
                if name not in seen and _running(pod):
                    seen[name] = now
                    node_of[name] = (pod.get("spec") or {}).get("nodeName", "")
            time.sleep(0.05)
        poll_cpu = time.process_time() - own_cpu0
        if lab:
            cpu_after = lab_cpu(lab)
    finally:
        _kf("delete", "namespace", BENCH_NS, "--cluster", cluster, "--wait=false", check=False)
        Path(f.name).unlink()
    times = sorted(seen.values())
    per_node: dict[str, list[float]] = {}
    for name, t in seen.items():
        per_node.setdefault(node_of[name], []).append(t)
    return {
        "per_node": {n: (len(v), max(v)) for n, v in sorted(per_node.items())},
        "pods": n, "running": len(times), "apply_s": applied, "apply_cpu_s": apply_cpu, "poll_cpu_s": poll_cpu,
        "lab_cpu": cpu_between(cpu_before, cpu_after) if lab else {},
        "created": sorted(v["created"] for v in steps.values() if "created" in v),
        "bound": sorted(v["bound"] for v in steps.values() if "bound" in v),
        "p50_s": _percentile(times, 0.50), "p99_s": _percentile(times, 0.99),
        "max_s": times[-1] if times else float("nan"),
        "all_s": times[-1] if len(times) == n else float("nan"),
    }  # fmt: skip


def run_lab(args: argparse.Namespace) -> None:
    if not Path(args.cluster, "cluster.yml").is_file():
        print(f"lab: skipped: no cluster at {args.cluster} (run `sudo make demo` first)")
        return
    r = bench_lab(args.cluster, args.lab_pods, lab=args.lab_name, poll=args.lab_poll)
    print(f"lab: {r['pods']} bare pods applied ({r['apply_s']:.2f} s for apply, {r['apply_cpu_s']:.2f} CPU-s), "
          f"{r['running']} Running")
    print(f"  apply-to-Running: p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s (target < 2 s), max {r['max_s']:.2f} s")
    print(f"  all Running after {r['all_s']:.2f} s (target < 10 s)")
    for step in ("created", "bound"):
        if r[step]:
            print(f"  {step} (seen by the watch): first {r[step][0]:.2f} s, p50 {_percentile(r[step], 0.5):.2f} s, "
                  f"last {r[step][-1]:.2f} s")
    for node, (count, last) in r["per_node"].items():
        print(f"  {node}: {count} pods, last Running after {last:.2f} s")
    how = "listing every 50 ms" if args.lab_poll else "watching"
    print(f"  the bench's own CPU ({how}): {r['poll_cpu_s']:.2f} CPU-s")
    for host, per in sorted(r["lab_cpu"].items()):
        total = sum(per.values())
        top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        print(f"  {host}: {total:.2f} CPU-s until all Running ({top})")


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {"scheduler": run_scheduler, "lab": run_lab}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in PARTS:
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} part (default: all parts)")
    parser.add_argument("--nodes", type=int, default=1000, help="scheduler: simulated nodes")
    parser.add_argument("--pods", type=int, default=10000, help="scheduler: pods to place")
    parser.add_argument("--cluster", default=".kubeform/lab", help="lab: cluster directory")
    parser.add_argument("--lab-pods", type=int, default=30, help="lab: bare pods to apply")
    parser.add_argument("--lab-name", default="", help="lab: name of the local lab whose hosts' CPU to account (root)")
    parser.add_argument("--lab-poll", action="store_true", help="lab: list the pods every 50 ms instead of watching")
    args = parser.parse_args(argv)
    chosen = [name for name in PARTS if getattr(args, name)] or list(PARTS)
    for name in chosen:
        PARTS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
