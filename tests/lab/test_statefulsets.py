"""A StatefulSet on the pods lab, as a user sees it.

One set ``kv`` (3 replicas, OrderedReady, a claim template ``data`` of the default class
local-path) in its own namespace:

- creation is ordered: whenever sampled, the pods that exist are kv-0..kv-k and every one
  below kv-k is Running and Ready;
- identity is stable: kv-1's hostname is kv-1, its claim data-kv-1 is Bound to a volume on
  the node it runs on;
- data survives the pod: a file written in kv-0's claim is there again after
  `kubeform delete pod kv-0`, in the new kv-0 (another uid), on the same node;
- scale down goes in reverse: kv-2 is gone before kv-1 starts terminating, and the claims
  stay (Retain).

The namespace is deleted at the end (its claims with it; the volumes are then released
and their directories removed by their nodes' agents).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.lab.conftest import PodsCluster
from tests.lab.remote import wait_for

pytestmark = pytest.mark.lab

NS = "sts-lab"
MANIFEST = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: {NS}}}
---
apiVersion: v1
kind: Service
metadata: {{name: kv, namespace: {NS}}}
spec:
  clusterIP: None
  selector: {{app: kv}}
  ports: [{{port: 80}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: kv, namespace: {NS}}}
spec:
  serviceName: kv
  replicas: 3
  selector: {{matchLabels: {{app: kv}}}}
  template:
    metadata: {{labels: {{app: kv}}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: kv
          image: busybox:1.36
          command: [sh, -c, "hostname >> /data/boots; exec sleep 3600"]
          volumeMounts: [{{name: data, mountPath: /data}}]
  volumeClaimTemplates:
    - metadata: {{name: data}}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {{requests: {{storage: 100Mi}}}}
"""


def _pods(c: PodsCluster) -> dict[str, dict[str, Any]]:
    proc = c.kf("get", "pods", "-n", NS, "-o", "json", check=False)
    if proc.returncode != 0:
        return {}
    data = json.loads(proc.stdout)
    items = data.get("items", []) if data.get("kind") == "List" else [data]
    return {p["metadata"]["name"]: p for p in items if p.get("metadata")}


def _running_ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return status.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")




def _diagnose(c: PodsCluster) -> None:
    """What a failure needs to be understood (shown by pytest with the failure)."""
    for args in (("get", "statefulset", "kv", "-n", NS, "-o", "yaml"), ("get", "pods,pvc", "-n", NS, "-o", "yaml"),
                 ("get", "pv", "-o", "wide"), ("get", "events", "-n", NS)):
        proc = c.kf(*args, check=False)
        print("$ kubeform", " ".join(args), "\n", proc.stdout, proc.stderr)
    print(c.ssh("kf-master1", "journalctl -u kubeform-reconciler --no-pager | tail -60", check=False))


def test_statefulset_order_identity_and_data(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    manifest = c.workdir / "sts.yaml"
    manifest.write_text(MANIFEST)
    c.kf("apply", "-f", str(manifest))
    try:
        # OrderedReady: sampled while it comes up, the pods are always a prefix, all but the last healthy
        deadline = time.monotonic() + 120
        while True:
            pods = _pods(c)
            names = sorted(pods, key=lambda n: int(n.rsplit("-", 1)[1]))
            assert names == [f"kv-{i}" for i in range(len(names))], names
            for n in names[:-1]:
                assert _running_ready(pods[n]), f"{names[-1]} exists while {n} is not Running and Ready"
            if len(names) == 3 and all(_running_ready(p) for p in pods.values()):
                break
            assert time.monotonic() < deadline, f"kv did not come up: {[(n, pods[n].get('status', {}).get('phase')) for n in names]}"
            time.sleep(0.5)

        # stable identity: hostname, labels, subdomain; its claim bound to a volume on its node
        kv1 = pods["kv-1"]
        assert c.kf("exec", "-n", NS, "kv-1", "--", "hostname").stdout.strip() == "kv-1"
        assert kv1["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "kv-1"
        assert kv1["spec"]["subdomain"] == "kv"
        claims = json.loads(c.kf("get", "pvc", "-n", NS, "-o", "json").stdout)["items"]
        assert sorted(p["metadata"]["name"] for p in claims) == ["data-kv-0", "data-kv-1", "data-kv-2"]
        assert all(p["status"]["phase"] == "Bound" for p in claims)
        volume = next(p["spec"]["volumeName"] for p in claims if p["metadata"]["name"] == "data-kv-1")
        pv = json.loads(c.kf("get", "pv", volume, "-o", "json").stdout)
        terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [kv1["spec"]["nodeName"]]

        # the data outlives the pod: same name, new pod, same node, same file
        old = pods["kv-0"]
        c.kf("exec", "-n", NS, "kv-0", "--", "sh", "-c", "echo kept > /data/note")
        c.kf("delete", "pod", "kv-0", "-n", NS)

        def recreated() -> dict[str, Any] | None:
            pod = _pods(c).get("kv-0")
            if pod and pod["metadata"]["uid"] != old["metadata"]["uid"] and _running_ready(pod):
                return pod
            return None

        new = wait_for("kv-0 re-created and Running", recreated, 120)
        assert new["spec"]["nodeName"] == old["spec"]["nodeName"]
        assert c.kf("exec", "-n", NS, "kv-0", "--", "cat", "/data/note").stdout.strip() == "kept"
        boots = c.kf("exec", "-n", NS, "kv-0", "--", "cat", "/data/boots").stdout.split()
        assert boots == ["kv-0", "kv-0"]

        # scale down in reverse order: kv-2 gone before kv-1 starts terminating
        c.kf("scale", "statefulset", "kv", "--replicas=1", "-n", NS)
        deadline = time.monotonic() + 120
        while True:
            pods = _pods(c)
            if "kv-1" not in pods or pods["kv-1"]["metadata"].get("deletionTimestamp"):
                assert "kv-2" not in pods, "kv-1 was removed before kv-2"
            if set(pods) == {"kv-0"}:
                break
            assert time.monotonic() < deadline, f"scale down stuck: {sorted(pods)}"
            time.sleep(0.3)
        claims = json.loads(c.kf("get", "pvc", "-n", NS, "-o", "json").stdout)["items"]
        assert len(claims) == 3  # Retain: the claims of kv-1 and kv-2 stay
    except AssertionError:
        _diagnose(c)
        raise
    finally:
        c.kf("delete", "namespace", NS, check=False)
