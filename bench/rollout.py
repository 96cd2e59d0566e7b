"""Rollouts: ReplicaSet/Deployment decisions per second (pure) and, on a lab, a rolling update.

Parts (run all by default, or name some):
  --decisions   (CPU time of the syncs and their cache writes, so a busy machine does not
                skew it) a simulated cluster of 1,000 nodes and 1,000 Deployments of 10 replicas
                (10,000 pods, 20 namespaces) in the reconciler's cache, no etcd: the
                Deployment and ReplicaSet controllers' syncs with their writes put into
                the cache (as the writer's write-through does), nodes making pods Ready at
                once. Figures: building it all from the Deployments, a resync of every
                key with nothing to do, and a rolling update of every Deployment.
  --lab         on a running cluster (default the `make demo` lab, .kubeform/lab): a
                Deployment of 10 busybox:latest replicas (maxSurge/maxUnavailable 25%),
                then `kubeform set image` to busybox:1.36 and the time until every pod is
                replaced and available (`rollout status` done); namespace deleted after.
Run: .venv/bin/python bench/rollout.py [--decisions] [--deployments N]
     sudo .venv/bin/python bench/rollout.py --lab [--cluster DIR]
"""

from __future__ import annotations

import argparse
import copy
import datetime
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.api import events
from kubeform.reconciler.controllers import deployment, replicaset
from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put
from kubeform.reconciler.machinery.cache import Cache
from kubeform.reconciler.machinery.writer import created

Obj = dict[str, Any]
T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
NAMESPACES = 20


class World:
    """A cache, a clock and the two controllers; writes go straight into the cache."""

    def __init__(self, nodes: int, deployments: int, replicas: int) -> None:
        self.cache = Cache()
        self.revision = 1
        self.ids = 0
        self.now = T0
        self.decisions = 0
        self.sync_seconds = 0.0
        for i in range(nodes):
            self.put(f"/registry/minions/node-{i:04d}", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i:04d}"}})
        for i in range(deployments):
            ns = f"ns-{i % NAMESPACES:02d}"
            name = f"app-{i:04d}"
            self.put(f"/registry/deployments/{ns}/{name}", {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": name, "namespace": ns, "uid": f"d-{i}", "generation": 1},
                "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                         "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                         "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                         "template": {"metadata": {"labels": {"app": name}},
                                      "spec": {"containers": [{"name": "c", "image": "busybox:latest"}]}}},
            })  # fmt: skip

    def put(self, key: str, obj: Obj | None) -> None:
        self.revision += 1
        self.cache.write_through(key, obj, self.revision)

    def perform(self, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, Create):
                self.ids += 1
                key, obj = created(a, f"{self.ids:05d}", f"uid-{self.ids}", self.now)
                self.put(key, obj)
            elif isinstance(a, Put):
                self.put(a.key, a.obj)
            elif isinstance(a, Delete):
                self.put(a.key, None)
            else:
                assert isinstance(a, CreateEvent)

    def sync_all(self) -> int:
        """Every Deployment, then every ReplicaSet, once; how many wrote something."""
        wrote = 0
        for c in (deployment.CONTROLLER, replicaset.CONTROLLER):
            for key in self.cache.keys(c.primary):
                t = time.process_time()
                actions = c.sync(key, self.cache, self.now)
                self.perform(actions)
                self.sync_seconds += time.process_time() - t
                self.decisions += 1
                wrote += bool(actions)
        return wrote

    def kubelet(self) -> None:
        """Every node at once: new pods Running and Ready, deleted pods gone."""
        stamp = events.rfc3339(self.now)
        for item in self.cache.list("/registry/pods/"):
            pod = item.obj
            if pod["metadata"].get("deletionTimestamp"):
                self.put(item.key, None)
            elif (pod.get("status") or {}).get("phase") != "Running":
                new = copy.deepcopy(pod)
                new["spec"]["nodeName"] = "node-0001"
                new["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp}]}
                self.put(item.key, new)

    def settle(self, limit: int = 200) -> int:
        """Rounds of syncs and node work until nothing changes; the rounds taken."""
        for n in range(limit):
            self.now += datetime.timedelta(seconds=1)
            wrote = self.sync_all()
            self.kubelet()
            if not wrote and n > 0:
                return n
        raise RuntimeError("did not settle")

    def measure(self, what: Callable[[], Any]) -> tuple[int, float, float]:
        d0, s0, w0 = self.decisions, self.sync_seconds, time.perf_counter()
        what()
        return self.decisions - d0, self.sync_seconds - s0, time.perf_counter() - w0


def bench_decisions(nodes: int, deployments: int, replicas: int) -> dict[str, Any]:
    w = World(nodes, deployments, replicas)
    out: dict[str, Any] = {"pods": deployments * replicas}
    out["build"] = w.measure(w.settle)
    assert len(w.cache.keys("/registry/pods/")) == deployments * replicas
    out["steady"] = w.measure(w.sync_all)

    def roll() -> None:
        for item in w.cache.list("/registry/deployments/"):
            d = copy.deepcopy(item.obj)
            d["spec"]["template"]["spec"]["containers"][0]["image"] = "busybox:1.36"
            d["metadata"]["generation"] += 1
            w.put(item.key, d)
        w.settle()

    out["rollout"] = w.measure(roll)
    images = {i.obj["spec"]["containers"][0]["image"] for i in w.cache.list("/registry/pods/")}
    assert images == {"busybox:1.36"}, images
    return out


def run_decisions(args: argparse.Namespace) -> None:
    r = bench_decisions(args.nodes, args.deployments, args.replicas)
    print(f"decisions: {args.nodes} nodes, {args.deployments} Deployments x {args.replicas} = {r['pods']} pods (pure, no etcd)")
    for label, key in (("build from Deployments", "build"), ("resync, nothing to do", "steady"), ("rolling update of all", "rollout")):
        n, busy, wall = r[key]
        print(f"  {label}: {n} syncs, {n / busy:.0f} decisions/s ({busy * 1000 / n:.2f} ms CPU each), {wall:.1f} s wall")


# -- lab -------------------------------------------------------------------------------

BENCH_NS = "kubeform-bench-rollout"


def _kf(cluster: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kubeform", *args, "--cluster", cluster], check=True, capture_output=True, text=True)


def bench_lab(cluster: str, replicas: int = 10, timeout: float = 300.0) -> dict[str, float]:
    from kubeform.api import kinds
    from kubeform.bootstrap.clusterdir import ClusterDir
    from kubeform.store.client import Store
    from kubeform.store.rollout import status_of

    store = Store.from_cluster(ClusterDir.find(cluster))
    manifest = yaml.safe_dump_all([
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": BENCH_NS}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": BENCH_NS},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}},
                               "spec": {"terminationGracePeriodSeconds": 1,
                                        "containers": [{"name": "c", "image": "busybox:latest", "command": ["sleep", "3600"]}]}}}},
    ])  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(manifest)
    kind = kinds.BY_KIND["Deployment"]

    def done() -> bool:
        d = store.get(kind, BENCH_NS, "web")
        return d is not None and status_of(d).done

    def wait(start: float) -> float:
        while time.monotonic() - start < timeout:
            if done():
                return time.monotonic() - start
            time.sleep(0.1)
        raise RuntimeError("rollout did not finish")

    try:
        start = time.monotonic()
        _kf(cluster, "apply", "-f", f.name)
        first = wait(start)
        start = time.monotonic()
        _kf(cluster, "set", "image", "deployment/web", "c=busybox:1.36", "-n", BENCH_NS)
        time.sleep(0.2)  # let the controller observe the new generation first
        update = wait(start)
    finally:
        subprocess.run([sys.executable, "-m", "kubeform", "delete", "namespace", BENCH_NS, "--cluster", cluster,
                        "--grace-period", "1"], check=False, capture_output=True)  # fmt: skip
        Path(f.name).unlink()
    return {"replicas": replicas, "first_s": first, "update_s": update}


def run_lab(args: argparse.Namespace) -> None:
    if not Path(args.cluster, "cluster.yml").is_file():
        print(f"lab: skipped: no cluster at {args.cluster} (run `sudo make demo` first)")
        return
    r = bench_lab(args.cluster)
    print(f"lab: Deployment of {r['replicas']:.0f} replicas available after {r['first_s']:.1f} s")
    print(f"  rolling update busybox:latest -> busybox:1.36 (25%/25%): {r['update_s']:.1f} s")


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {"decisions": run_decisions, "lab": run_lab}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    for name in PARTS:
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} part (default: all parts)")
    parser.add_argument("--nodes", type=int, default=1000, help="decisions: simulated nodes")
    parser.add_argument("--deployments", type=int, default=1000, help="decisions: Deployments")
    parser.add_argument("--replicas", type=int, default=10, help="decisions: replicas of each")
    parser.add_argument("--cluster", default=".kubeform/lab", help="lab: cluster directory")
    args = parser.parse_args(argv)
    for name in [n for n in PARTS if getattr(args, n)] or list(PARTS):
        PARTS[name](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
