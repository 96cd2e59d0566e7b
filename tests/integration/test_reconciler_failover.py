"""Two reconciler processes against a real etcd: one leads, kill -9 it, the other takes over.

Why real processes and a real etcd: leadership rests on etcd's lease expiry, the watch
stream and transactions comparing the leader key's lease, none of which a fake proves.
The standby must bind a pod created after the kill within the lease TTL (10 s) plus a
little (its watch sees the key go, the campaign and the first list take well under 1 s).
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeform.api.etcd import EtcdClient
from kubeform.reconciler.leader import LEADER_KEY, LEASE_TTL
from tests.etcd_server import EtcdServer, etcd_clean, etcd_tls  # noqa: F401

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
#: Takeover budget after kill -9: the lease TTL, plus etcd's expiry tick and the new
#: leader's list and first decision.
TAKEOVER = LEASE_TTL + 3.0


def _client(server: EtcdServer) -> EtcdClient:
    c = server.cluster
    return EtcdClient([server.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key), timeout=5)


def _config(server: EtcdServer, tmp: Path, name: str) -> Path:
    cert, key = server.cluster.cert_paths(f"reconciler-{name}")
    server.cluster.issue(f"reconciler-{name}", [name], client=True, server=False)
    path = tmp / f"{name}.json"
    path.write_text(json.dumps({
        "node_name": name,
        "etcd": {
            "endpoints": [server.endpoint],
            "ca_file": str(server.cluster.ca_cert),
            "cert_file": str(cert),
            "key_file": str(key),
        },
    }))
    return path


def _node(client: EtcdClient, name: str) -> None:
    """A Ready node: its heartbeat lease renewed now, valid for an hour."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    client.put(f"/registry/minions/{name}", json.dumps({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "110"}},
    }))
    client.put(f"/registry/leases/kube-node-lease/{name}", json.dumps({
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {"holderIdentity": name, "renewTime": now, "leaseDurationSeconds": 3600},
    }))


def _pod(client: EtcdClient, name: str, **spec: Any) -> str:
    key = f"/registry/pods/default/{name}"
    client.put(key, json.dumps({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }))
    return key


def _wait(what: str, check: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _obj(client: EtcdClient, key: str) -> dict[str, Any]:
    kv = client.get(key)
    return json.loads(kv.value) if kv else {}


def _holder(client: EtcdClient) -> str:
    return str(_obj(client, LEADER_KEY).get("spec", {}).get("holderIdentity", ""))


@pytest.fixture()
def reconcilers(etcd_clean: EtcdServer, tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:  # noqa: F811
    procs: dict[str, subprocess.Popen[bytes]] = {}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        for name in ("m1", "m2"):
            cfg = _config(etcd_clean, tmp_path, name)
            with open(tmp_path / f"{name}.log", "wb") as log:
                procs[name] = subprocess.Popen(
                    [sys.executable, "-m", "kubeform.reconciler", "--config", str(cfg)],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                )
        yield procs
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        for name in procs:
            sys.stderr.write(f"--- {name} log ---\n{(tmp_path / f'{name}.log').read_text()[-3000:]}\n")


def test_leader_kill9_standby_takes_over(etcd_clean: EtcdServer, reconcilers: dict[str, subprocess.Popen[bytes]]) -> None:  # noqa: F811
    client = _client(etcd_clean)
    _node(client, "n1")
    holder = _wait("a leader", lambda: _holder(client), 15)
    leader = holder.split("_")[0]
    standby = "m2" if leader == "m1" else "m1"
    # the leader binds a pod, and an unschedulable one gets its condition and one event
    p1 = _pod(client, "p1")
    _wait("p1 bound", lambda: _obj(client, p1).get("spec", {}).get("nodeName") == "n1", 10)
    p0 = _pod(client, "nowhere", nodeSelector={"disk": "ssd"})
    _wait("nowhere unschedulable", lambda: any(
        c.get("reason") == "Unschedulable" for c in _obj(client, p0).get("status", {}).get("conditions", [])
    ), 10)

    reconcilers[leader].send_signal(signal.SIGKILL)
    reconcilers[leader].wait()
    killed = time.monotonic()
    p2 = _pod(client, "p2")
    _wait("p2 bound by the standby", lambda: _obj(client, p2).get("spec", {}).get("nodeName") == "n1", TAKEOVER + 5)
    took = time.monotonic() - killed
    print(f"takeover: p2 bound {took:.2f} s after kill -9 of the leader (lease TTL {LEASE_TTL} s)")
    assert _holder(client).startswith(standby + "_")
    assert took <= TAKEOVER, f"the standby took {took:.1f} s"

    events, _ = client.range("/registry/events/default/", prefix=True)
    reasons = sorted((json.loads(kv.value)["involvedObject"]["name"], json.loads(kv.value)["reason"]) for kv in events)
    assert reasons.count(("nowhere", "FailedScheduling")) == 1, reasons  # the new leader did not repeat it
    assert ("p1", "Scheduled") in reasons and ("p2", "Scheduled") in reasons
    assert all(kv.lease for kv in events), "events are bound to an etcd lease (TTL)"

    # SIGTERM releases the lease at once: the key is gone well before the TTL
    reconcilers[standby].send_signal(signal.SIGTERM)
    assert reconcilers[standby].wait(timeout=10) == 0
    assert client.get(LEADER_KEY) is None


def test_informer_relists_after_compaction(etcd_clean: EtcdServer) -> None:  # noqa: F811
    """etcd answers a watch from a compacted revision with compact_revision: list again."""
    from kubeform.reconciler.machinery.cache import Cache
    from kubeform.reconciler.machinery.informer import Informer

    client = _client(etcd_clean)
    _pod(client, "a")
    cache = Cache()
    informer = Informer(client, "/registry/pods/", cache, lambda change: None, watch_timeout=0.5)
    informer.relist()
    stale = informer.revision
    _pod(client, "b")
    _pod(client, "c")
    client.delete("/registry/pods/default/a")
    head = _pod(client, "d") and client.range("/registry/pods/", prefix=True)[1]
    client.call("/v3/kv/compaction", {"revision": str(head), "physical": True})
    assert informer.revision == stale
    informer.step()  # the watch from stale+1 is refused: compacted
    assert informer.needs_list
    informer.step()  # listed again, then watched
    assert informer.lists == 2
    assert cache.keys() == [f"/registry/pods/default/{n}" for n in ("b", "c", "d")]
