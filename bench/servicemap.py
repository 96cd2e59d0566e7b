"""Service proxy figures: render time and iptables-restore time of a full sync of 1,000 and
10,000 Services (3 endpoints each), of a one-endpoint partial sync, and of the periodic
repair check, for legacy iptables and iptables-nft side by side.

The rules are applied for real, with the agent's own code (IptablesBackend: render cached
per Service, only changed Services diffed, `iptables-restore --noflush`, nft in batches),
inside network namespaces the bench creates and removes. Each figure is the median of
several runs (the partial sync also shows its slowest). The floor is iptables-restore of
the same rules with nothing else: a plain restore (no --noflush, no save, no Python) into
an empty namespace, and for the partial sync the cheapest change of the loaded table (one
new chain with one rule). Needs root and iptables. Targets: a full sync of 10,000 Services
under 1 s; one endpoint change under 1 s.
Run: python bench/servicemap.py [--binary=iptables-legacy|iptables-nft] [--runs=3] [N ...]
(default: both flavours, 1000 10000)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.agent.proxy import iptables_sync
from kubeform.agent.proxy.iptables_host import IptablesHost
from kubeform.agent.proxy.proxier import IptablesBackend
from kubeform.api import servicemap

NETNS = f"kf-bench-svc-{os.getpid()}"
FLOOR_NETNS = f"kf-bench-floor-{os.getpid()}"
NODES = ["kf-master1", "kf-node1", "kf-node2"]


def entry(i: int) -> dict[str, Any]:
    eps = [{"ip": f"10.244.{n}.{i % 250 + 2}", "port": 8080 + i // 250 % 50, "node": NODES[n]} for n in range(3)]
    return {
        "namespace": f"ns{i % 20}", "name": f"svc-{i:05d}", "type": "NodePort" if i % 10 == 0 else "ClusterIP",
        "clusterIP": f"10.96.{i // 250}.{i % 250 + 2}", "sessionAffinity": "None", "affinityTimeout": 10800,
        "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 30000 + i % 2700 if i % 10 == 0 else 0,
                   "endpoints": eps}],
        "addresses": [],
    }


def items(n: int) -> list[tuple[str, int, dict[str, Any]]]:
    return [(servicemap.key(e["namespace"], e["name"]), 1, e) for e in (entry(i) for i in range(n))]


def ms(seconds: float) -> str:
    return f"{1000 * seconds:7.0f} ms"


def med(values: list[float]) -> float:
    return statistics.median(values)


def child_cpu() -> float:
    """CPU seconds (user + system) of the finished child processes (iptables), so far:
    on a loaded machine the wall time of a restore says little, its CPU time much more."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def self_cpu() -> float:
    """CPU seconds of this process (the agent's Python: render, diff, join, write)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def fresh(name: str) -> None:
    subprocess.run(["ip", "netns", "del", name], check=False, stderr=subprocess.DEVNULL)
    subprocess.run(["ip", "netns", "add", name], check=True)


def run(n: int, binary: str, runs: int) -> dict[str, float]:
    """Every figure for n Services with binary; returns the ones the summary compares."""
    host = IptablesHost(NETNS, binary)
    its = items(n)
    fresh(NETNS)
    ctx = IptablesBackend(host).context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    label = f"{binary:>15} {n:>6} services"

    # full sync into an empty namespace: the agent's own sync (save in a thread while it
    # renders, restore input streamed into iptables-restore); every run starts from
    # nothing, with a cold render cache (the agent's start), then again with the cache
    # warm (a full sync after a failure or a repair: only changed Services re-rendered)
    render, restore, total, cpu, pycpu = [], [], [], [], []
    warm, warm_cpu, warm_py = [], [], []
    for _ in range(runs):
        fresh(NETNS)
        backend = IptablesBackend(host)
        t0 = time.perf_counter()
        desired = backend.desired(its, ctx)
        text = iptables_sync.restore_text(desired, None, None, iptables_sync.JUMPS, backend.batch())
        render.append(time.perf_counter() - t0)
        backend.cache = {}
        t0, c0, p0 = time.perf_counter(), child_cpu(), self_cpu()
        backend.sync(its, ctx, full=True)
        total.append(time.perf_counter() - t0)
        cpu.append(child_cpu() - c0)
        pycpu.append(self_cpu() - p0)
        restore.append(backend.timing[1])
        fresh(NETNS)
        backend.applied = None
        t0, c0, p0 = time.perf_counter(), child_cpu(), self_cpu()
        backend.sync(its, ctx, full=True)
        warm.append(time.perf_counter() - t0)
        warm_cpu.append(child_cpu() - c0)
        warm_py.append(self_cpu() - p0)
    lines = text.count("\n")
    print(f"{label}  full sync (empty host): render {ms(med(render))}, iptables {ms(med(restore))} (save + restore, "
          f"overlapping the render; cpu {ms(med(cpu)).strip()}, python cpu {ms(med(pycpu)).strip()}), "
          f"total {ms(med(total))}  [{lines} lines, {len(text) // 1024} KiB, {iptables_sync.changed_chains(text)} chains, "
          f"{text.count('COMMIT')} transactions]", flush=True)
    print(f"{label}  full sync (empty host, render cache warm): total {ms(med(warm))} (iptables cpu "
          f"{ms(med(warm_cpu)).strip()}, python cpu {ms(med(warm_py)).strip()})", flush=True)

    # the floor: iptables-restore of the same text into an empty namespace, nothing else
    # (no save, no Python); plain (no --noflush) too where the text is one transaction per
    # table (a plain restore flushes the whole table at each block)
    modes = [["--noflush"]] + ([[]] if text.count("COMMIT") <= 2 else [])
    best_floor = float("inf")
    for extra in modes:
        floor = []
        for _ in range(runs):
            fresh(FLOOR_NETNS)
            t0 = time.perf_counter()
            subprocess.run(["ip", "netns", "exec", FLOOR_NETNS, binary + "-restore", *extra], input=text, text=True, check=True)
            floor.append(time.perf_counter() - t0)
        print(f"{label}  floor: {binary}-restore {' '.join(extra) or '(plain)'} of the same text, nothing else: {ms(med(floor))}",
              flush=True)
        best_floor = min(best_floor, med(floor))
    subprocess.run(["ip", "netns", "del", FLOOR_NETNS], check=False)

    # full resync with every rule in place (hourly, and when the repair check finds a difference)
    full = []
    for _ in range(runs):
        t0 = time.perf_counter()
        backend.sync(its, ctx, full=True)
        full.append(time.perf_counter() - t0)
    print(f"{label}  full resync (rules in place): {ms(med(full))}", flush=True)

    # the repair check every 30 s: one save per table, rule counts compared
    checks = []
    for _ in range(runs):
        t0 = time.perf_counter()
        problems = backend.check()
        checks.append(time.perf_counter() - t0)
    assert not problems, problems
    print(f"{label}  repair check (rules as written): {ms(med(checks))}", flush=True)

    # one endpoint of one Service goes and comes back: the agent's partial sync, alternately
    key, _rev, e = its[n // 2]
    one = dict(e, ports=[dict(e["ports"][0], endpoints=e["ports"][0]["endpoints"][:2])])
    partial, py, cpu = [], [], []
    summary = ""
    for i in range(max(2 * runs + 1, 7)):
        its[n // 2] = (key, 2 + i, one if i % 2 == 0 else e)
        t0, c0 = time.perf_counter(), child_cpu()
        summary = backend.sync(its, ctx, full=False)
        partial.append(time.perf_counter() - t0)
        cpu.append(child_cpu() - c0)
        py.append(backend.timing[0])
    print(f"{label}  one-endpoint partial sync: {ms(med(partial))} (slowest {ms(max(partial)).strip()}, python "
          f"{ms(med(py)).strip()}, iptables cpu {ms(med(cpu)).strip()}; {summary})", flush=True)
    # the floor of any change to the loaded table
    cheapest = []
    for i in range(runs):
        t0 = time.perf_counter()
        host.restore(f"*nat\n:KUBE-BENCH-{i} - [0:0]\n-A KUBE-BENCH-{i} -j RETURN\nCOMMIT\n")
        cheapest.append(time.perf_counter() - t0)
    print(f"{label}  floor: one new chain with one rule in the loaded table: {ms(med(cheapest))}", flush=True)
    return {"full": med(total), "full_warm": med(warm), "full_floor": best_floor, "partial": med(partial), "partial_worst": max(partial),
            "partial_floor": med(cheapest)}


def summary(results: dict[tuple[str, int], dict[str, float]]) -> None:
    """The targets, met or not, next to what iptables alone costs (the floor)."""
    print("\nTargets (median of the runs above; the floor is iptables-restore alone):")
    for (binary, n), r in results.items():
        full = "met" if r["full"] < 1.0 else f"NOT met (floor {r['full_floor']:.2f} s)"
        one = "met" if r["partial_worst"] < 1.0 else f"NOT met (floor {r['partial_floor']:.2f} s)"
        print(f"  {binary:>15} {n:>6} services: full sync {r['full']:.2f} s (render cache warm: {r['full_warm']:.2f} s), "
              f"target 1 s {full}; "
              f"one endpoint {r['partial']:.2f} s (slowest {r['partial_worst']:.2f} s), target 1 s {one}")


def main() -> int:
    if os.geteuid() != 0:
        print("needs root (a network namespace and iptables)", file=sys.stderr)
        return 2
    args = sys.argv[1:]
    binaries = ["iptables-legacy", "iptables-nft"]
    runs = 3
    while args and args[0].startswith("--"):
        opt, _, value = args.pop(0).partition("=")
        if opt == "--binary":
            binaries = [value]
        elif opt == "--runs":
            runs = int(value)
    sizes = [int(a) for a in args] or [1000, 10000]
    results: dict[tuple[str, int], dict[str, float]] = {}
    try:
        for binary in binaries:
            print(subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip(), flush=True)
            for n in sizes:
                results[(binary, n)] = run(n, binary, runs)
        summary(results)
    finally:
        for name in (NETNS, FLOOR_NETNS):
            subprocess.run(["ip", "netns", "del", name], check=False, stderr=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
