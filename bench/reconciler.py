"""Time the reconciler binding pods: a real etcd on loopback, one reconciler process.

Run: ``python bench/reconciler.py [--pods 300] [--nodes 10]``. Registers Ready nodes,
starts ``python -m kubeform.reconciler`` (it wins the leader lease), then creates the pods
one put after the other and prints when all are bound, and the bindings per second. (Takeover after kill -9 is timed by tests/integration/test_reconciler_failover.py.)
Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kubeform.api.etcd import EtcdClient  # noqa: E402
from kubeform.reconciler.leader import LEADER_KEY  # noqa: E402
from tests.etcd_server import start_etcd  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--nodes", type=int, default=10)
    args = parser.parse_args()
    with start_etcd() as server, tempfile.TemporaryDirectory() as tmp:
        c = server.cluster
        client = EtcdClient([server.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key))
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for i in range(args.nodes):
            name = f"n{i}"
            client.put(f"/registry/minions/{name}", json.dumps({
                "apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
                "status": {"allocatable": {"cpu": "64", "memory": "256Gi", "pods": "1000"}}}))
            client.put(f"/registry/leases/kube-node-lease/{name}", json.dumps(
                {"spec": {"holderIdentity": name, "renewTime": now, "leaseDurationSeconds": 3600}}))
        cfg = Path(tmp) / "r.json"
        cfg.write_text(json.dumps({"node_name": "bench", "etcd": {
            "endpoints": [server.endpoint], "ca_file": str(c.ca_cert),
            "cert_file": str(c.admin_cert), "key_file": str(c.admin_key)}}))
        with open(Path(tmp) / "r.log", "wb") as log:
            proc = subprocess.Popen([sys.executable, "-m", "kubeform.reconciler", "--config", str(cfg)],
                                    cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=log, stderr=log)
        try:
            while client.get(LEADER_KEY) is None:
                time.sleep(0.05)
            time.sleep(0.5)  # its first lists
            start = time.monotonic()
            for i in range(args.pods):
                client.put(f"/registry/pods/default/p{i}", json.dumps({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"p{i}", "namespace": "default", "uid": f"u{i}"},
                    "spec": {"containers": [{"name": "c", "image": "busybox",
                                             "resources": {"requests": {"cpu": "10m"}}}]}}))
            created = time.monotonic() - start
            while True:
                kvs, _ = client.range("/registry/pods/", prefix=True)
                bound = sum(1 for kv in kvs if json.loads(kv.value).get("spec", {}).get("nodeName"))
                if bound == args.pods:
                    break
                time.sleep(0.05)
            total = time.monotonic() - start
        finally:
            proc.kill()
            proc.wait()
        print(f"{args.pods} pods on {args.nodes} nodes: created in {created:.2f} s (one put each), "
              f"all bound {total:.2f} s after the first create, {total - created:.2f} s after the last "
              f"({args.pods / total:.0f} bindings/s overall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
