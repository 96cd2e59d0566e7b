"""Store throughput: apply rate (objects/s) and `get pods -A` latency with 10,000 pods.

Starts its own TLS etcd on loopback (tests/etcd_server.py), applies N pods through the
same path as `kubeform apply` (validation, defaults, planning, batched transactions) and
times `kubeform get pods -A` end to end (CLI, TLS, one range read, table). Targets:
>= 500 objects/s applied, `get pods -A` of 10,000 under 1 s. Run: python bench/store.py [N]
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.cli.main import main
from kubeform.store import applier
from kubeform.store.client import Store
from kubeform.store.manifests import Doc
from tests.etcd_server import start_etcd


def pod(i: int) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{i:05d}", "namespace": f"ns{i % 10}", "labels": {"app": "web", "shard": str(i % 7)}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                                 "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
    }  # fmt: skip


def run(n: int) -> None:
    with start_etcd() as etcd:
        store = Store.from_cluster(etcd.cluster)
        # setup, not timed: pods may only go into namespaces that exist
        namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns{i}"}} for i in range(10)]
        applier.apply_docs(store, applier.validate_docs([Doc("setup", i + 1, o) for i, o in enumerate(namespaces)])[0])
        docs = [Doc("bench", i + 1, pod(i)) for i in range(n)]
        t0 = time.perf_counter()
        items, _ = applier.validate_docs(docs)
        t1 = time.perf_counter()
        applier.apply_docs(store, items)
        t2 = time.perf_counter()
        print(f"validate {n} pods: {t1 - t0:.2f} s")
        print(f"apply {n} pods: {t2 - t0:.2f} s total -> {n / (t2 - t0):.0f} objects/s (target >= 500)")
        t3 = time.perf_counter()
        again = applier.apply_docs(store, applier.validate_docs(docs)[0])
        t4 = time.perf_counter()
        assert all(p.outcome == "unchanged" for p in again)
        print(f"re-apply {n} unchanged pods: {n / (t4 - t3):.0f} objects/s")
        times = []
        for _ in range(5):
            out = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(out):
                rc = main(["get", "pods", "-A", "--cluster", str(etcd.cluster.path)])
            times.append(time.perf_counter() - start)
            assert rc == 0 and out.getvalue().count("\n") == n + 1
        print(f"get pods -A ({n} pods): best {min(times) * 1000:.0f} ms, median {sorted(times)[2] * 1000:.0f} ms (target < 1000 ms)")
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            main(["get", "pods", "-A", "-l", "shard in (1,2),app=web", "--cluster", str(etcd.cluster.path)])
        print(f"get pods -A -l 'shard in (1,2),app=web': {(time.perf_counter() - start) * 1000:.0f} ms")


if __name__ == "__main__":
    run(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
