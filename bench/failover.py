"""Failover: from a node's death (`kubeform lab stop`) to a Deployment's pods Running elsewhere.

On a running lab cluster (default the `make demo` lab, .kubeform/lab): a Deployment of N
busybox replicas (default 4) in namespace kubeform-failover, spread by the scheduler;
when all are Running, the node holding most of them (or --node; never a control-plane
node unless named: the store and the reconciler live there) is powered off hard with
`kubeform lab stop`, and the store is polled every 100 ms. Printed, from the start of the
stop (the node dies during it; how long the stop command took is printed too):

- when the node was tainted ``node.kubernetes.io/unreachable:NoExecute`` (its heartbeat
  lease lapsed: at most its 10 s TTL),
- when its pods were evicted (marked for deletion: the default toleration,
  the reconciler's ``pod_eviction_seconds``, after the taint),
- when N replicas were Running again on the other nodes (target: under 15 s; Kubernetes'
  defaults take about 340 s: 40 s node-monitor grace period + 300 s tolerations).

The node is started again and the namespace deleted afterwards. Needs the Deployment and
ReplicaSet controllers; without them no pod appears and it says so.
`--kind ReplicaSet` measures the same path (eviction, replacement by the ReplicaSet
controller) without the Deployment controller. `--tolerate-control-plane` lets the pods
run on the masters too (a lab whose only other hosts are masters, such as
tests/lab/test_chaos.py's: kf-node1 is a second master).
Run: sudo .venv/bin/python bench/failover.py [--cluster DIR] [--lab NAME] [--replicas N] [--node HOST]
                                             [--kind Deployment|ReplicaSet] [--tolerate-control-plane]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NS = "kubeform-failover"
UNREACHABLE = "node.kubernetes.io/unreachable"
CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


def _kf(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubeform", *args], capture_output=True, text=True, check=check)


def manifest(replicas: int, kind: str = "Deployment", tolerate_control_plane: bool = False) -> str:
    tolerations = [{"key": CONTROL_PLANE, "operator": "Exists", "effect": "NoSchedule"}] if tolerate_control_plane else []
    return yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
        {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "failover", "namespace": NS},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "failover"}},
                  "template": {"metadata": {"labels": {"app": "failover"}},
                               "spec": {"terminationGracePeriodSeconds": 1, "tolerations": tolerations, "containers": [
                                   {"name": "c", "image": "busybox:1.36", "command": ["sleep", "36000"]}]}}}},
    ])  # fmt: skip


def running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    return (
        not (pod.get("metadata") or {}).get("deletionTimestamp")
        and status.get("phase") == "Running"
        and bool(statuses)
        and all("running" in (c.get("state") or {}) for c in statuses)
    )


def control_plane(node: dict[str, Any]) -> bool:
    return any(t.get("key") == CONTROL_PLANE for t in (node.get("spec") or {}).get("taints") or [])


def bench(cluster: str, lab: str, replicas: int, node: str | None, kind: str = "Deployment",
          timeout: float = 120.0, tolerate_control_plane: bool = False) -> dict[str, Any]:
    from kubeform.api import kinds
    from kubeform.bootstrap.clusterdir import ClusterDir
    from kubeform.store.client import Store

    store = Store.from_cluster(ClusterDir.find(cluster))
    pod_kind, node_kind = kinds.BY_KIND["Pod"], kinds.BY_KIND["Node"]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(manifest(replicas, kind, tolerate_control_plane))
    stopped = ""
    out: dict[str, Any] = {"replicas": replicas, "kind": kind}
    try:
        gone_by = time.monotonic() + 90  # a previous run's namespace may still be Terminating
        while store.get(kinds.BY_KIND["Namespace"], None, NS) and time.monotonic() < gone_by:
            time.sleep(0.5)
        _kf("apply", "-f", f.name, "--cluster", cluster)
        deadline = time.monotonic() + timeout
        pods: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            pods = [p for p in store.list(pod_kind, NS) if running(p)]
            if len(pods) >= replicas:
                break
            time.sleep(0.2)
        if len(pods) < replicas:
            out["error"] = (f"only {len(pods)} of {replicas} replicas Running after {timeout:.0f} s "
                            f"(is there a {kind} controller on this cluster?)")
            return out
        by_node: dict[str, int] = {}
        for p in pods:
            by_node[p["spec"]["nodeName"]] = by_node.get(p["spec"]["nodeName"], 0) + 1
        masters = {n for n in by_node if control_plane(store.get(node_kind, None, n) or {})}
        candidates = sorted(set(by_node) - masters)
        if not node and not candidates:
            out["error"] = f"every replica runs on a control-plane node ({', '.join(sorted(masters))}); name one with --node"
            return out
        victim = node or max(candidates, key=lambda n: by_node[n])
        out["node"], out["on_node"] = victim, by_node.get(victim, 0)
        t0 = time.monotonic()  # the node dies somewhere during the stop command
        _kf("lab", "stop", victim, "--name", lab)
        stopped = victim
        out["stop_s"] = time.monotonic() - t0
        while time.monotonic() - t0 < timeout:
            now = time.monotonic() - t0
            if "tainted_s" not in out:
                n = store.get(node_kind, None, victim) or {}
                if any(t.get("key") == UNREACHABLE for t in (n.get("spec") or {}).get("taints") or []):
                    out["tainted_s"] = now
            all_pods = store.list(pod_kind, NS)
            if "evicted_s" not in out and any(
                p["spec"].get("nodeName") == victim and (p.get("metadata") or {}).get("deletionTimestamp") for p in all_pods
            ):
                out["evicted_s"] = now
            elsewhere = [p for p in all_pods if running(p) and p["spec"].get("nodeName") != victim]
            if len(elsewhere) >= replicas:
                out["replaced_s"] = now
                break
            time.sleep(0.1)
        return out
    finally:
        if stopped:
            _kf("lab", "start", stopped, "--name", lab, check=False)
        _kf("delete", "namespace", NS, "--cluster", cluster, "--wait=false", check=False)
        Path(f.name).unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", default=".kubeform/lab", help="cluster directory")
    parser.add_argument("--lab", default="kubeform", help="lab name for `kubeform lab stop|start` (default: the `make demo` lab)")
    parser.add_argument("--replicas", type=int, default=4)
    parser.add_argument("--node", help="the node to stop (default: the one with most replicas)")
    parser.add_argument("--kind", choices=("Deployment", "ReplicaSet"), default="Deployment",
                        help="the workload (ReplicaSet: the same failover path without the Deployment controller)")
    parser.add_argument("--tolerate-control-plane", action="store_true",
                        help="the pods may run on control-plane nodes too (a lab whose other hosts are masters)")
    args = parser.parse_args(argv)
    if not Path(args.cluster, "cluster.yml").is_file():
        print(f"failover: skipped: no cluster at {args.cluster} (run `sudo make demo` first)")
        return 0
    r = bench(args.cluster, args.lab, args.replicas, args.node, args.kind,
              tolerate_control_plane=args.tolerate_control_plane)
    if "error" in r:
        print(f"failover: not measurable: {r['error']}")
        return 2

    def fmt(key: str) -> str:
        return f"{r[key]:.1f} s" if key in r else "not seen"

    print(f"failover: {r['kind']} of {r['replicas']} replicas, {r['on_node']} on {r['node']}, which was stopped")
    print(f"  (`kubeform lab stop` took {fmt('stop_s')}; the times below are from its start)")
    print(f"  tainted unreachable after {fmt('tainted_s')}, pods evicted after {fmt('evicted_s')}")
    print(f"  all {r['replicas']} replicas Running elsewhere after {fmt('replaced_s')} (target < 15 s)")
    return 0 if "replaced_s" in r else 1


if __name__ == "__main__":
    sys.exit(main())
