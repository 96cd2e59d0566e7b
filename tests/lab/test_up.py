"""`kubeform up` end to end on a bare 3-host lab, then `kubeform down`.

One module-scoped lab (``kfup3``, 192.168.59.0/24, tests/lab/conftest.py) goes through
the whole life of a cluster, in the order of the tests below: up from bare hosts, an
idempotent re-run, Ready nodes, etcd over TLS, flannel's keys in etcd, pod-to-pod TCP
across the overlay, a dead agent turning its node NotReady, and down leaving the hosts
as they were. Traffic goes only to the lab's own namespaces.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubeform.lab.state import LabState
from tests.lab.remote import ssh

pytestmark = pytest.mark.lab

#: What `kubeform down` must restore: everything up touches, listed on a host.
SNAPSHOT = r"""
echo '## units'; systemctl list-unit-files --no-legend --no-pager 'kubeform*' 'etcd*' | awk '{print $1, $2}' | sort
echo '## running'; systemctl list-units --no-legend --no-pager --state=running --type=service | awk '{print $1}' | grep -E 'kubeform|etcd|docker|chrony|firewalld' | sort
echo '## links'; ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort
echo '## routes'; ip route | sort
echo "## files"; find /etc/sysctl.d/99-kubeform.conf /etc/kubeform /var/lib/kubeform /opt/kubeform /run/flannel /etc/systemd/system/kubeform* 2>/dev/null | sort
echo '## rules'; iptables-save 2>/dev/null | grep -i kubeform | sort
echo '## hosts'; cat /etc/hosts
echo '## hostname'; cat /etc/hostname
echo '## netns'; ip netns list 2>/dev/null | sort
"""

#: Deadline for a dead agent's node to turn NotReady (the heartbeat lease is 10 s).
NOT_READY_WITHIN = 15.0


@dataclass
class Cluster:
    """A cluster brought up on the lab: where the CLI runs and what it said."""

    lab: LabState
    workdir: Path
    inventory: Path
    first: subprocess.CompletedProcess[str]
    before: dict[str, str]

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / ".kubeform" / self.lab.name


def kf(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the kubeform CLI as a user would (a non-interactive stdin, so -y is needed)."""
    proc = subprocess.run(
        [sys.executable, "-m", "kubeform", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"kubeform {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def snapshot(st: LabState) -> dict[str, str]:
    return {h.name: ssh(st, h.name, SNAPSHOT) for h in st.hosts}


def nodes(cluster_dir: Path, cwd: Path) -> dict[str, dict[str, str]]:
    """`kubeform get nodes` as {name: {column: value}}."""
    out = kf("get", "nodes", "--cluster", str(cluster_dir), cwd=cwd).stdout
    lines = [line.split() for line in out.splitlines() if line.strip()]
    header = [c.lower() for c in lines[0]]
    return {row[0]: dict(zip(header, row, strict=False)) for row in lines[1:]}


def wait_status(cluster: Cluster, node: str, status: str, within: float) -> float:
    """Seconds until `get nodes` shows ``status`` for ``node``; fails past the deadline."""
    start = time.monotonic()
    deadline = start + within
    seen = ""
    while time.monotonic() < deadline:
        seen = nodes(cluster.cluster_dir, cluster.workdir)[node]["status"]
        if seen == status:
            return time.monotonic() - start
        time.sleep(0.5)
    raise AssertionError(f"{node} still {seen} after {within:.0f} s (wanted {status})")


def etcdctl(command: str) -> str:
    """etcdctl with the member's TLS client certificate, as an operator runs it on a master."""
    return (
        "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 "
        "--cacert=/etc/kubeform/pki/ca.crt --cert=/etc/kubeform/pki/etcd.crt "
        f"--key=/etc/kubeform/pki/etcd.key --command-timeout=5s {command} 2>&1"
    )


@pytest.fixture(scope="module")
def cluster(up_lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The lab after one `kubeform up`, with a snapshot of the bare hosts taken before it."""
    workdir = tmp_path_factory.mktemp("up")
    inventory = Path(up_lab.directory) / "inventory.yml"
    before = snapshot(up_lab)
    first = kf("up", str(inventory), "-y", cwd=workdir, check=False)
    yield Cluster(up_lab, workdir, inventory, first, before)


def test_up_from_bare_hosts_succeeds(cluster: Cluster) -> None:
    assert cluster.first.returncode == 0, cluster.first.stdout + cluster.first.stderr
    assert "failed=0" in cluster.first.stdout
    assert (cluster.cluster_dir / "cluster.yml").is_file()
    assert "Built-in objects created" in cluster.first.stdout


def test_second_up_changes_nothing(cluster: Cluster) -> None:
    again = kf("up", str(cluster.inventory), "-y", cwd=cluster.workdir)
    assert "nothing to change" in again.stdout
    assert "Plan: 0 to add, 0 to change, 0 to remove" in again.stdout


def test_three_ready_nodes_with_distinct_subnets(cluster: Cluster) -> None:
    table = nodes(cluster.cluster_dir, cluster.workdir)
    assert sorted(table) == ["kf-master1", "kf-node1", "kf-node2"]
    assert {row["status"] for row in table.values()} == {"Ready"}
    subnets = [row["subnet"] for row in table.values()]
    assert len(set(subnets)) == 3
    assert all(re.fullmatch(r"10\.244\.\d+\.0/24", s) for s in subnets)


def test_builtin_objects_exist(cluster: Cluster) -> None:
    out = kf("get", "namespaces", "--cluster", str(cluster.cluster_dir), cwd=cluster.workdir)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
        assert ns in out.stdout
    svc = kf("get", "services", "--cluster", str(cluster.cluster_dir), cwd=cluster.workdir)
    assert "kubernetes" in svc.stdout and "10.96.0.1" in svc.stdout


def test_etcd_over_tls_is_healthy(cluster: Cluster) -> None:
    health = ssh(cluster.lab, "kf-master1", etcdctl("endpoint health --cluster"))
    assert "is healthy" in health and "unhealthy" not in health
    members = ssh(cluster.lab, "kf-master1", etcdctl("member list"))
    assert len(members.strip().splitlines()) == 1 and "started" in members
    # Without a client certificate etcd refuses the request.
    refused = ssh(
        cluster.lab,
        "kf-master1",
        "ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 "
        "--cacert=/etc/kubeform/pki/ca.crt --command-timeout=3s get /x; echo rc=$?",
        check=False,
    )
    assert "rc=0" not in refused


def test_flannel_config_and_leases_in_flannels_format(cluster: Cluster) -> None:
    out = ssh(
        cluster.lab,
        "kf-master1",
        etcdctl("get --prefix /coreos.com/network/ -w json"),
    )
    import base64

    kvs = {
        base64.b64decode(kv["key"]).decode(): (json.loads(base64.b64decode(kv["value"])), kv.get("lease"))
        for kv in json.loads(out)["kvs"]
    }
    config, _ = kvs.pop("/coreos.com/network/config")
    assert config == {
        "Network": "10.244.0.0/16",
        "SubnetLen": 24,
        "Backend": {"Type": "vxlan", "VNI": 1, "Port": 8472},
    }
    table = nodes(cluster.cluster_dir, cluster.workdir)
    expected_keys = {
        "/coreos.com/network/subnets/" + row["subnet"].replace("/", "-") for row in table.values()
    }
    assert set(kvs) == expected_keys
    addresses = {h.address for h in cluster.lab.hosts}
    for key, (lease, etcd_lease) in kvs.items():
        # flanneld (>= 0.14) marshals PublicIPv6 as null on an IPv4-only network.
        assert set(lease) - {"PublicIPv6"} == {"PublicIP", "BackendType", "BackendData"}, key
        assert lease.get("PublicIPv6") is None
        assert lease["PublicIP"] in addresses
        assert lease["BackendType"] == "vxlan"
        assert lease["BackendData"]["VNI"] == 1
        assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", lease["BackendData"]["VtepMAC"])
        assert etcd_lease, f"{key} is not attached to an etcd lease"


POD_SETUP = """
set -e
SUB=$(. /run/flannel/subnet.env; echo ${FLANNEL_SUBNET%.*/*})
ip netns add kfpod
ip link add kfpod0 type veth peer name kfpod1
ip link set kfpod1 netns kfpod
ip link set kfpod0 master cni0 up
ip -n kfpod addr add $SUB.200/24 dev kfpod1
ip -n kfpod link set lo up
ip -n kfpod link set kfpod1 up
ip -n kfpod route add default via $SUB.1
echo $SUB.200
"""
POD_TEARDOWN = "ip netns del kfpod 2>/dev/null; ip link del kfpod0 2>/dev/null; true"
SERVER = (
    "import socket;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);"
    "s.bind(('0.0.0.0',8080));s.listen(1);c,a=s.accept();c.sendall(('hello '+a[0]).encode());c.close()"
)


def test_pod_on_one_host_reaches_pod_on_another_over_the_overlay(cluster: Cluster) -> None:
    st = cluster.lab
    try:
        server_ip = ssh(st, "kf-node1", POD_SETUP).strip()
        client_ip = ssh(st, "kf-node2", POD_SETUP).strip()
        ssh(
            st,
            "kf-node1",
            f"setsid timeout 30 ip netns exec kfpod python3 -c {shlex.quote(SERVER)} "
            ">/dev/null 2>&1 </dev/null & sleep 0.5",
        )
        client = (
            f"import socket;s=socket.create_connection(('{server_ip}',8080),10);"
            "print(s.recv(100).decode())"
        )
        out = ssh(st, "kf-node2", f"ip netns exec kfpod python3 -c {shlex.quote(client)}")
        # The server saw the client pod's own address: no NAT between pods.
        assert out.strip() == f"hello {client_ip}"
    finally:
        for host in ("kf-node1", "kf-node2"):
            # (the server exits after one client, or by `timeout`)
            ssh(st, host, POD_TEARDOWN, check=False)


def test_stopped_agent_makes_its_node_not_ready(cluster: Cluster) -> None:
    ssh(cluster.lab, "kf-node1", "systemctl stop kubeform-agent")
    try:
        wait_status(cluster, "kf-node1", "NotReady", NOT_READY_WITHIN)
    finally:
        ssh(cluster.lab, "kf-node1", "systemctl start kubeform-agent")
    wait_status(cluster, "kf-node1", "Ready", 30)


def test_killed_agent_makes_its_node_not_ready_when_the_lease_expires(cluster: Cluster) -> None:
    # SIGKILL: no lease revoke, so this is the expiry path. systemd restarts the agent
    # after RestartSec; mask the restart by stopping the unit's restart loop first.
    ssh(
        cluster.lab,
        "kf-node2",
        "kill -9 $(systemctl show -p MainPID --value kubeform-agent) && systemctl stop kubeform-agent",
    )
    try:
        wait_status(cluster, "kf-node2", "NotReady", NOT_READY_WITHIN)
    finally:
        ssh(cluster.lab, "kf-node2", "systemctl start kubeform-agent")
    wait_status(cluster, "kf-node2", "Ready", 30)


def test_down_leaves_the_hosts_as_they_were(cluster: Cluster) -> None:
    down = kf("down", str(cluster.inventory), "-y", cwd=cluster.workdir)
    assert "failed=0" in down.stdout
    after = snapshot(cluster.lab)
    for host, text in cluster.before.items():
        assert after[host] == text, f"{host} differs after down"
    # And down again changes nothing (its shell steps run, and report no change).
    again = kf("down", str(cluster.inventory), "-y", cwd=cluster.workdir)
    assert len(re.findall(r"changed=0\s+unreachable=0\s+failed=0", again.stdout)) == 3
