"""The reconciler on a lab: scheduling as a user sees it, and leader failover.

On the shared pods lab (``pods_cluster``): a pod whose nodeSelector no node has stays
Pending and says why in `kubeform describe pod` (PodScheduled=False, "0/3 nodes are
available: ...") and `kubeform get events` shows FailedScheduling; a pod with no
constraints gets a nodeName and a Scheduled event.

On a lab of its own (``kfrec``, 192.168.67.0/24, two masters kf-master1 and kf-node1, one
etcd member): kill -9 the leading reconciler (and keep systemd from restarting it, as a
dead host would); the other master's reconciler takes over when the etcd lease lapses
(TTL 10 s) and binds a pod created after the kill.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

from kubeform.api.nodes import parse_time
from kubeform.lab.state import LabState
from tests.lab.conftest import PodsCluster, _own_lab
from tests.lab.remote import ssh, wait_for

pytestmark = pytest.mark.lab

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: rec-nowhere}
spec:
  nodeSelector: {kubeform.test/disk: nowhere}
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: rec-free}
spec:
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]
"""




def _pod(kf: Any, name: str) -> dict[str, Any]:
    proc = kf("get", "pod", name, "-o", "json", check=False)
    return json.loads(proc.stdout) if proc.returncode == 0 else {}


def test_unschedulable_pod_says_why_and_free_pod_is_bound(pods_cluster: PodsCluster) -> None:
    c = pods_cluster
    manifest = c.workdir / "rec-pods.yaml"
    manifest.write_text(PODS)
    c.kf("apply", "-f", str(manifest))
    try:
        node = wait_for("rec-free bound", lambda: _pod(c.kf, "rec-free").get("spec", {}).get("nodeName"), 30)
        assert node in {h.name for h in c.lab.hosts}

        def unschedulable() -> str:
            text = c.kf("describe", "pod", "rec-nowhere").stdout
            return text if "Unschedulable" in text else ""

        text = wait_for("rec-nowhere unschedulable", unschedulable, 30)
        assert "type: PodScheduled" in text and "status: 'False'" in text, text
        assert re.search(r"0/\d+ nodes are available: .*didn't match Pod's node affinity/selector", text), text
        assert re.search(r"Warning\s+FailedScheduling\s+\S+\s+default-scheduler\s+0/\d+ nodes are available", text), text

        events = c.kf("get", "events").stdout
        assert re.search(r"Warning\s+FailedScheduling\s+pod/rec-nowhere\s+0/\d+ nodes are available", events), events
        assert re.search(rf"Normal\s+Scheduled\s+pod/rec-free\s+Successfully assigned default/rec-free to {node}", events), events
        assert "Events:" in c.kf("describe", "pod", "rec-free").stdout
        # retried on every change, but the unchanged message is not recorded twice
        time.sleep(3)
        again = c.kf("get", "events").stdout
        assert len(re.findall(r"FailedScheduling\s+pod/rec-nowhere", again)) == 1, again
    finally:
        c.kf("delete", "-f", str(manifest), "--grace-period=0", "--force", check=False)


# -- leader failover on two masters ------------------------------------------------------
FAILOVER_LAB = ("kfrec", "192.168.67.0/24")
#: The lease TTL, plus etcd's expiry tick, the watch noticing and the first list.
TAKEOVER = 12.0


def kf(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "kubeform", *args]
    if args and args[0] not in ("up", "down", "lab"):
        argv += ["--cluster", str(cwd / ".kubeform" / FAILOVER_LAB[0])]
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubeform {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def two_masters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabState, Path]]:
    """A 3-host lab brought up with kf-master1 and kf-node1 both in the masters group."""
    lab = cast(Generator[LabState, None, None], _own_lab(*FAILOVER_LAB, hosts=3))
    st = next(lab)
    try:
        workdir = tmp_path_factory.mktemp("rec")
        data = yaml.safe_load(Path(st.directory, "inventory.yml").read_text())
        data["all"]["children"]["masters"]["hosts"]["kf-node1"] = None
        inventory = workdir / "inventory.yml"
        inventory.write_text(yaml.safe_dump(data, sort_keys=False))
        kf(workdir, "up", str(inventory), "-y", "--cluster", str(workdir / ".kubeform" / FAILOVER_LAB[0]))
        yield st, workdir
    finally:
        lab.close()  # the lab goes (its finally), also when up failed


def _leads(st: LabState, host: str) -> bool:
    """Whether the reconciler on host says it leads (its journal's last leadership line)."""
    log = ssh(st, host, "journalctl -u kubeform-reconciler --no-pager -o cat | grep -E 'is the leader|stops leading' | tail -1", check=False)
    return "is the leader" in log


def _leader(st: LabState) -> str:
    return next((h for h in ("kf-master1", "kf-node1") if _leads(st, h)), "")


def test_leader_kill9_the_other_master_takes_over(two_masters: tuple[LabState, Path]) -> None:
    st, workdir = two_masters
    for host in ("kf-master1", "kf-node1"):
        assert ssh(st, host, "systemctl is-active kubeform-reconciler").strip() == "active"
    leader = wait_for("a leader", lambda: _leader(st), 30)
    other = "kf-node1" if leader == "kf-master1" else "kf-master1"
    manifest = workdir / "failover.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: after-kill}\n"
        "spec: {containers: [{name: c, image: busybox:1.36, command: [sleep, '3600']}]}\n"
    )
    # kill -9, then keep it down (a dead host does not come back in 2 s)
    ssh(st, leader, "systemctl kill -s KILL kubeform-reconciler; systemctl stop kubeform-reconciler")
    killed = time.time()  # lab hosts share this machine's clock
    try:
        kf(workdir, "apply", "-f", str(manifest))
        pod = wait_for("after-kill bound", lambda: (lambda p: p if p.get("spec", {}).get("nodeName") else None)(
            _pod(lambda *a, **k: kf(workdir, *a, **k), "after-kill")), TAKEOVER + 15, every=0.2)
        # when it was bound, from the pod itself (the CLI's own start-up is not the reconciler's)
        cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
        bound = parse_time(cond["lastTransitionTime"])
        assert bound is not None
        took = bound.timestamp() - killed
        print(f"failover: pod bound on {pod['spec']['nodeName']} {took:.1f} s (±1 s) after kill -9 of {leader}'s reconciler")
        assert _leads(st, other)
        assert took <= TAKEOVER, f"took {took:.1f} s"
    finally:
        ssh(st, leader, "systemctl start kubeform-reconciler", check=False)
        kf(workdir, "delete", "-f", str(manifest), "--grace-period=0", "--force", check=False)
