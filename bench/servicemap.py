"""Service proxy figures: render time and iptables-restore time of a full sync of 1,000 and
10,000 Services (3 endpoints each), and of a one-endpoint partial sync at 10,000.

The rules are applied for real, with the agent's own code (IptablesBackend: render
cached per Service, only changed Services diffed, `iptables-restore --noflush`), inside a network
namespace the bench creates and removes. Needs root and iptables. Target: a full sync
of 10,000 Services under 1 s. Run: python bench/servicemap.py [--binary=iptables-legacy] [N ...]
(default 1000 10000; --binary picks iptables-legacy or iptables-nft instead of the host's iptables)
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.agent.proxy import iptables_rules, iptables_sync
from kubeform.agent.proxy.iptables_host import IptablesHost
from kubeform.agent.proxy.proxier import IptablesBackend
from kubeform.api import servicemap

NETNS = f"kf-bench-svc-{os.getpid()}"
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


def run(n: int, binary: str) -> None:
    host = IptablesHost(NETNS, binary)
    backend = IptablesBackend(host)
    ctx = backend.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    its = items(n)

    # the first full sync into an empty namespace: render and restore apart
    t0, c0 = time.perf_counter(), time.process_time()
    desired = backend.desired(its, ctx)
    text = iptables_sync.restore_text(desired)
    t1, c1 = time.perf_counter(), time.process_time()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    host.restore(text)
    t2 = time.perf_counter()
    r2 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (r2.ru_utime + r2.ru_stime) - (r1.ru_utime + r1.ru_stime)
    backend.applied = backend.rendered(its, ctx)
    backend.applied_shared = iptables_rules.shared_ruleset(desired)
    lines = text.count("\n")
    print(flush=True)
    print(f"{n:>6} services  full sync: render {1000 * (t1 - t0):7.1f} ms (cpu {1000 * (c1 - c0):.0f}), "
          f"iptables-restore {1000 * (t2 - t1):7.1f} ms (cpu {1000 * child_cpu:.0f}), total {1000 * (t2 - t0):7.1f} ms "
          f"({lines} lines, {len(text) // 1024} KiB, {iptables_sync.changed_chains(text)} chains)")

    # the floor: iptables-restore --noflush of nothing but a COMMIT, with these rules loaded
    t0 = time.perf_counter()
    host.restore("*nat\nCOMMIT\n")
    print(f"{n:>6} services  floor: iptables-restore --noflush of an empty nat table: {1000 * (time.perf_counter() - t0):7.1f} ms")

    # one endpoint of one Service goes away: the agent's own partial sync
    key, _rev, e = its[n // 2]
    changed = dict(e, ports=[dict(e["ports"][0], endpoints=e["ports"][0]["endpoints"][:2])])
    its[n // 2] = (key, 2, changed)
    t0 = time.perf_counter()
    summary = backend.sync(its, ctx, full=False)
    t1 = time.perf_counter()
    py, ipt = backend.timing
    print(f"{n:>6} services  one-endpoint partial sync: render+diff {1000 * py:7.1f} ms, iptables-restore {1000 * ipt:6.1f} ms, "
          f"total {1000 * (t1 - t0):7.1f} ms ({summary} written or deleted)")

    # the agent's periodic full resync with everything in place (iptables-save of both
    # tables for stale chains and jump rules, every chain rewritten)
    t0 = time.perf_counter()
    summary = backend.sync(its, ctx, full=True)
    py, ipt = backend.timing
    print(f"{n:>6} services  full resync (rules in place): python {1000 * py:7.1f} ms, iptables-save + restore {1000 * ipt:7.1f} ms, "
          f"total {1000 * (time.perf_counter() - t0):7.1f} ms ({summary})")
    uncached = time.perf_counter()
    iptables_rules.render([e for _k, _r, e in its], ctx)
    print(f"{n:>6} services  (render without the per-Service cache: {1000 * (time.perf_counter() - uncached):.1f} ms)")


def main() -> int:
    if os.geteuid() != 0:
        print("needs root (a network namespace and iptables)", file=sys.stderr)
        return 2
    args = sys.argv[1:]
    binary = "iptables"
    if args and args[0].startswith("--binary="):
        binary = args.pop(0).split("=", 1)[1]
    sizes = [int(a) for a in args] or [1000, 10000]
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        print(subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip(), flush=True)
        for n in sizes:
            run(n, binary)
            IptablesHost(NETNS, binary).cleanup()
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
