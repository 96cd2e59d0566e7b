"""Garbage collection, namespace deletion and node death on the shared pods lab.

- Owners and dependents: bare pods owned (ownerReferences, blockOwnerDeletion) by
  ConfigMaps. Deleting an owner deletes its pod (background, the default), deletes it
  before the owner (``--cascade=foreground``: when `delete` returns the pod is gone too),
  or keeps it without the reference (``--cascade=orphan``). Deleting the namespace shows
  it Terminating (held there by a ConfigMap's finalizer until the test removes it),
  refuses new objects in it, and removes everything in it.
- A dead node (`kubeform lab stop kf-node1`): it turns NotReady and gets the
  ``node.kubernetes.io/unreachable:NoExecute`` taint; its pod without tolerations is
  evicted after the default toleration (Terminating: nothing can confirm it stopped),
  a pod that tolerates the taint stays; a ReplicaSet's pods there are replaced on the
  other nodes (the time from the stop to the replacements Running is printed);
  `delete --force --grace-period=0` removes a Terminating pod at once. When the node is
  back the taint goes, its agent finishes the evicted pods and removes the force-deleted
  one's containers: no container runs twice, each host runs exactly its pods.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from kubeform.api.nodes import parse_time
from tests.lab.conftest import PodsCluster
from tests.lab.remote import wait_for

pytestmark = pytest.mark.lab

NODE = "kf-node1"  # crun
UNREACHABLE = "node.kubernetes.io/unreachable"




def _get(c: PodsCluster, *args: str) -> dict[str, Any]:
    proc = c.kf("get", *args, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def _pod(name: str, ns: str, owner: dict[str, Any] | None, sleep: int, *, node: str | None = None,
         tolerate: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if owner is not None:
        meta["ownerReferences"] = [{
            "apiVersion": "v1", "kind": "ConfigMap", "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "blockOwnerDeletion": True,
        }]
    spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "c", "image": "busybox:1.36", "command": ["sleep", str(sleep)]}],
    }
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    if tolerate:
        spec["tolerations"] = [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


#: Holds its namespace Terminating until its finalizer is removed (by applying it without).
HELD = {"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "held", "namespace": "lc-gc", "finalizers": ["kubeform.test/hold"]}}


REPLICAS = 4


def replicaset(ns: str, replicas: int) -> dict[str, Any]:
    template = _pod("x", ns, None, 3704)
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "lc-rs", "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "lc-rs"}},
                     "template": {"metadata": {"labels": {"app": "lc-rs"}}, "spec": template["spec"]}}}


def _running(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    return (not pod["metadata"].get("deletionTimestamp") and status.get("phase") == "Running"
            and all("running" in (cs.get("state") or {}) for cs in status.get("containerStatuses") or [{}]))


def _rs_running(c: PodsCluster, ns: str) -> list[dict[str, Any]]:
    return [p for p in _get(c, "pods", "-n", ns, "-l", "app=lc-rs").get("items", []) if _running(p)]


def _apply(c: PodsCluster, name: str, docs: list[dict[str, Any]]) -> None:
    path = c.workdir / name
    path.write_text("\n---\n".join(json.dumps(d) for d in docs))
    c.kf("apply", "-f", str(path))


def test_owner_deletion_cascades_and_namespace_deletion(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    ns = "lc-gc"
    c.kf("create", "namespace", ns)
    try:
        for owner in ("bg", "fg", "orph"):
            c.kf("create", "configmap", owner, "-n", ns)
        owners = {o: _get(c, "cm", o, "-n", ns) for o in ("bg", "fg", "orph")}
        _apply(c, "lc-gc-pods.yaml", [_pod(f"{o}-pod", ns, owners[o], 3600 + i) for i, o in enumerate(owners)]
               + [HELD])
        for o in owners:
            wait_for(f"{o}-pod running", lambda o=o: _get(c, "pod", f"{o}-pod", "-n", ns).get("status", {}).get("phase") == "Running", 90)

        # background (the default): the owner goes at once, the collector then deletes the pod
        out = c.kf("delete", "cm", "bg", "-n", ns).stdout
        assert out == "configmap/bg deleted\n"
        wait_for("bg-pod deleted by the collector", lambda: not _get(c, "pod", "bg-pod", "-n", ns), 60)

        # foreground: delete waits for the owner, which waits for its (blocking) dependent
        out = c.kf("delete", "cm", "fg", "-n", ns, "--cascade=foreground", "--timeout=90s").stdout
        assert out == "configmap/fg deleted\n"
        assert not _get(c, "cm", "fg", "-n", ns) and not _get(c, "pod", "fg-pod", "-n", ns)

        # orphan: the owner goes, the pod stays and no longer names it
        c.kf("delete", "cm", "orph", "-n", ns, "--cascade=orphan", "--timeout=60s")
        assert not _get(c, "cm", "orph", "-n", ns)
        kept = _get(c, "pod", "orph-pod", "-n", ns)
        assert kept and not kept["metadata"].get("ownerReferences") and not kept["metadata"].get("deletionTimestamp")

        # the namespace: Terminating (held by HELD's finalizer, until the test drops it), no
        # new objects in it, then gone with everything in it
        assert c.kf("delete", "ns", ns, "--wait=false").stdout == f"namespace/{ns} deleted\n"
        assert "Terminating" in c.kf("get", "ns", ns).stdout
        refused = c.kf("create", "configmap", "late", "-n", ns, check=False)
        assert refused.returncode != 0 and "because it is being terminated" in refused.stderr
        wait_for("orph-pod deleted by the namespace controller", lambda: not _get(c, "pod", "orph-pod", "-n", ns), 60)
        held = _get(c, "cm", "held", "-n", ns)
        assert held["metadata"]["deletionTimestamp"] and _get(c, "ns", ns)["status"]["phase"] == "Terminating"
        _apply(c, "lc-gc-release.yaml", [dict(HELD, metadata=dict(HELD["metadata"], finalizers=[]))])
        wait_for(f"namespace {ns} gone", lambda: not _get(c, "ns", ns), 60)
        assert not _get(c, "pod", "orph-pod", "-n", ns)
        for host in ("kf-master1", "kf-node1", "kf-node2"):
            assert c.ssh(host, "pgrep -f 'sleep 360[0-2]$' || true").strip() == "", host
    finally:
        c.kf("delete", "ns", ns, "--wait=false", check=False)
        if _get(c, "cm", "held", "-n", ns):
            _apply(c, "lc-gc-release.yaml", [dict(HELD, metadata=dict(HELD["metadata"], finalizers=[]))])


def test_dead_node_is_tainted_its_pods_evicted_and_nothing_runs_twice(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    ns = "lc-node"
    c.kf("create", "namespace", ns)
    stopped = False
    try:
        _apply(c, "lc-node-pods.yaml", [
            _pod("evicted", ns, None, 3701, node=NODE),
            _pod("tolerant", ns, None, 3702, node=NODE, tolerate=True),
            _pod("forced", ns, None, 3703, node=NODE),
            replicaset(ns, REPLICAS),
        ])
        for name in ("evicted", "tolerant", "forced"):
            wait_for(f"{name} running", lambda n=name: _get(c, "pod", n, "-n", ns).get("status", {}).get("phase") == "Running", 90)
        wait_for("the ReplicaSet's pods running", lambda: len(_rs_running(c, ns)) == REPLICAS, 90)
        on_node = [p for p in _rs_running(c, ns) if p["spec"]["nodeName"] == NODE]

        died = datetime.datetime.now(datetime.UTC)
        c.kf("lab", "stop", NODE, "--name", c.lab.name)
        stopped = True
        down = datetime.datetime.now(datetime.UTC)  # the node died somewhere in between

        def tainted() -> bool:
            node = _get(c, "node", NODE)
            taints = node.get("spec", {}).get("taints") or []
            return any(t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute" for t in taints)

        wait_for("the unreachable taint", tainted, 30)
        assert "NotReady" in c.kf("get", "node", NODE).stdout
        ready = next(x for x in _get(c, "node", NODE)["status"]["conditions"] if x["type"] == "Ready")
        assert ready["status"] == "Unknown" and ready["message"] == "Kubelet stopped posting node status."

        for name in ("evicted", "forced"):
            wait_for(f"{name} evicted", lambda n=name: _get(c, "pod", n, "-n", ns).get("metadata", {}).get("deletionTimestamp"), 30)
        pod = _get(c, "pod", "evicted", "-n", ns)
        # the reconciler's own clock (the lab shares this machine's): timeAdded, and the
        # eviction = deletionTimestamp - grace (whole seconds)
        taint = next(t for t in _get(c, "node", NODE)["spec"]["taints"] if t["key"] == UNREACHABLE)
        tainted_at = parse_time(taint["timeAdded"])
        marked = parse_time(pod["metadata"]["deletionTimestamp"])
        assert tainted_at is not None and marked is not None
        evicted_at = marked - datetime.timedelta(seconds=pod["metadata"]["deletionGracePeriodSeconds"])
        print(f"\nlab stop took {(down - died).total_seconds():.1f} s; from its start: tainted after "
              f"{(tainted_at - died).total_seconds():.0f} s, pods evicted after {(evicted_at - died).total_seconds():.0f} s")
        assert any(x["type"] == "DisruptionTarget" and x["reason"] == "DeletionByTaintManager" for x in pod["status"]["conditions"])
        assert "Terminating" in c.kf("get", "pod", "evicted", "-n", ns).stdout
        assert not _get(c, "pod", "tolerant", "-n", ns)["metadata"].get("deletionTimestamp")

        # the ReplicaSet counts its evicted pods as gone and replaces them on the other nodes
        def replaced() -> list[dict[str, Any]]:
            pods = _rs_running(c, ns)
            return pods if len([p for p in pods if p["spec"]["nodeName"] != NODE]) == REPLICAS else []

        pods = wait_for("the ReplicaSet's replicas Running elsewhere", replaced, 60)
        if on_node:
            new = [p for p in pods if (parse_time(p["metadata"]["creationTimestamp"]) or died) > died]
            created = max(parse_time(p["metadata"]["creationTimestamp"]) or died for p in new)
            started = [parse_time(cs["state"]["running"]["startedAt"]) for p in new for cs in p["status"]["containerStatuses"]]
            last = max(t for t in started if t is not None)
            print(f"{len(on_node)} ReplicaSet pod(s) on the node: replacements created after "
                  f"{(created - died).total_seconds():.0f} s, Running after {(last - died).total_seconds():.0f} s")

        # its agent cannot confirm: --force removes the object at once, with kubectl's warning
        forced = c.kf("delete", "pod", "forced", "-n", ns, "--force", "--grace-period=0")
        assert forced.stdout == "pod/forced force deleted\n"
        assert forced.stderr.startswith("Warning: Immediate deletion does not wait for confirmation")
        assert not _get(c, "pod", "forced", "-n", ns)
        assert _get(c, "pod", "evicted", "-n", ns)  # still Terminating: nothing confirmed it

        c.kf("lab", "start", NODE, "--name", c.lab.name)
        stopped = False
        wait_for("the taint removed", lambda: not tainted(), 60)
        wait_for("the evicted pod finished by its agent", lambda: not _get(c, "pod", "evicted", "-n", ns), 90)

        def one_each() -> str:
            running = c.ssh(NODE, "pgrep -fa 'sleep 370[1-3]$' || true")
            return running if ("sleep 3702" in running and "3701" not in running and "3703" not in running) else ""

        text = wait_for("only the tolerant pod's container on the node", one_each, 60)
        assert text.count("sleep 3702") == 1, text
        # nothing doubled: each host runs exactly the ReplicaSet's pods bound to it
        wait_for("the ReplicaSet's pods finished on the returned node", lambda: all(
            not p["metadata"].get("deletionTimestamp") for p in _get(c, "pods", "-n", ns, "-l", "app=lc-rs")["items"]), 60)
        pods = _rs_running(c, ns)
        assert len(pods) == REPLICAS
        for host in ("kf-master1", "kf-node1", "kf-node2"):
            running = c.ssh(host, "pgrep -f 'sleep 3704$' | wc -l").strip()
            assert int(running) == len([p for p in pods if p["spec"]["nodeName"] == host]), host
    finally:
        if stopped:
            c.kf("lab", "start", NODE, "--name", c.lab.name, check=False)
        c.kf("delete", "ns", ns, "--wait=false", check=False)
