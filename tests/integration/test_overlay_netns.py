"""Two hosts as network namespaces, joined by the agent's overlay; a pod on each talks TCP.

Why: the overlay plan is only right if the kernel agrees. The test makes hosts kf-t-a and
kf-t-b (a veth pair, 10.99.0.0/24), runs each agent's real convergence against a real etcd
with the executor prefixing `ip netns exec`, puts a "pod" netns behind each host's cni0, and
sends bytes from pod A to pod B through flannel.1 (vxlan) or a direct route (host-gw). Every namespace is removed in finally.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeform.agent.config import AgentConfig
from kubeform.agent.executor import Executor
from kubeform.agent.main import Agent
from kubeform.api.etcd import EtcdClient
from tests.etcd_server import EtcdServer, etcd_clean, etcd_tls  # noqa: F401

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

HOSTS = {"kf-t-a": "10.99.0.1", "kf-t-b": "10.99.0.2"}
PODS = {"kf-t-pa": "kf-t-a", "kf-t-pb": "kf-t-b"}
ALL_NS = [*HOSTS, *PODS]


def sh(*argv: str, ns: str | None = None, check: bool = True) -> str:
    """Run a command (in ns if given); its stdout."""
    prefix = ["ip", "netns", "exec", ns] if ns else []
    proc = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} in {ns}: {proc.stderr}")
    return proc.stdout


def _cleanup() -> None:
    for ns in ALL_NS:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@pytest.fixture()
def hosts() -> Iterator[dict[str, str]]:
    """kf-t-a and kf-t-b joined by a veth pair, loopback up; removed afterwards, always."""
    _cleanup()
    try:
        for ns in HOSTS:
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "set", "lo", "up", ns=ns)
        sh("ip", "link", "add", "kf-t-veth-a", "netns", "kf-t-a", "type", "veth",
           "peer", "name", "kf-t-veth-b", "netns", "kf-t-b")
        for ns, ip in HOSTS.items():
            dev = "kf-t-veth-" + ns[-1]
            sh("ip", "link", "set", dev, "name", "eth0", ns=ns)
            sh("ip", "addr", "add", ip + "/24", "dev", "eth0", ns=ns)
            sh("ip", "link", "set", "eth0", "up", ns=ns)
        yield HOSTS
    finally:
        _cleanup()


def _agent(server: EtcdServer, tmp_path: Path, ns: str, ip: str) -> Agent:
    c = server.cluster
    cfg = AgentConfig({
        "node_name": ns,
        "etcd": {"endpoints": [server.endpoint], "ca_file": str(c.ca_cert),
                 "cert_file": str(c.admin_cert), "key_file": str(c.admin_key)},
        "public_ip": ip,
        "netns": ns,
        "subnet_env": str(tmp_path / ns / "subnet.env"),
    })
    return Agent(cfg, executor=Executor(ns), facts={"internal_ip": ip, "cpu": 1, "memory_kib": 1})


def _add_pod(pod: str, host: str, subnet_prefix: str, mtu: int) -> str:
    """A pod netns with eth0 on the host's cni0, address <subnet>.2; returns that address."""
    ip = subnet_prefix + ".2"
    sh("ip", "netns", "add", pod)
    sh("ip", "link", "set", "lo", "up", ns=pod)
    sh("ip", "link", "add", "veth-" + pod[-2:], "type", "veth", "peer", "name", "eth0", "netns", pod, ns=host)
    sh("ip", "link", "set", "veth-" + pod[-2:], "master", "cni0", "mtu", str(mtu), "up", ns=host)
    sh("ip", "link", "set", "eth0", "mtu", str(mtu), "up", ns=pod)
    sh("ip", "addr", "add", ip + "/24", "dev", "eth0", ns=pod)
    sh("ip", "route", "add", "default", "via", subnet_prefix + ".1", ns=pod)
    return ip


SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(30)
print("listening", flush=True)
c, peer = s.accept(); c.settimeout(30)
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
print(peer[0], len(data), data[:32].decode(), flush=True)
"""

CLIENT = """
import socket, sys
c = socket.create_connection((sys.argv[1], 8080), timeout=30)
c.sendall(b"hello-through-flannel" + b"x" * 100000)
c.close()
"""


BACKENDS = {
    "vxlan": {"Type": "vxlan", "VNI": 1, "Port": 8472},
    "host-gw": {"Type": "host-gw"},
}


@pytest.mark.parametrize(("backend", "form"), [("vxlan", "json"), ("vxlan", "text"), ("host-gw", "json")])
def test_two_hosts_pod_to_pod(
    etcd_clean: EtcdServer, tmp_path: Path, hosts: dict[str, str], backend: str, form: str  # noqa: F811
) -> None:
    """form=text reads the host state as on iproute2 without -j (CentOS 7)."""
    c = etcd_clean.cluster
    client = EtcdClient([etcd_clean.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key))
    client.put("/coreos.com/network/config",
               json.dumps({"Network": "10.244.0.0/16", "SubnetLen": 24, "Backend": BACKENDS[backend]}))
    mtu = 1450 if backend == "vxlan" else 1500
    agents = {ns: _agent(etcd_clean, tmp_path, ns, ip) for ns, ip in hosts.items()}
    for a in agents.values():
        a.executor._json = form == "json"
        a.discover()
        assert a.interface == "eth0" and a.external_mtu == 1500
    # Level-triggered: two rounds let each host see the other's lease; the third is idle.
    for _ in range(2):
        for a in agents.values():
            a.sync_once()
    for ns, a in agents.items():
        assert a.sync_once() == [], f"{ns} did not converge"
    a, b = agents["kf-t-a"], agents["kf-t-b"]
    assert a.subnet is not None and b.subnet is not None and a.subnet != b.subnet
    env = (tmp_path / "kf-t-a" / "subnet.env").read_text()
    assert f"FLANNEL_SUBNET={a.subnet.network_address + 1}/24" in env and f"FLANNEL_MTU={mtu}" in env

    route = sh("ip", "route", "show", str(b.subnet), ns="kf-t-a")
    if backend == "vxlan":
        link = json.loads(sh("ip", "-d", "-j", "link", "show", "flannel.1", ns="kf-t-a"))[0]
        assert link["mtu"] == 1450 and link["linkinfo"]["info_data"]["id"] == 1
        assert link["linkinfo"]["info_data"]["port"] == 8472 and not link["linkinfo"]["info_data"]["learning"]
        assert f"via {b.subnet.network_address} dev flannel.1 onlink" in route
    else:
        assert "via 10.99.0.2 dev eth0" in route

    ip_a = _add_pod("kf-t-pa", "kf-t-a", str(a.subnet.network_address).rsplit(".", 1)[0], mtu)
    ip_b = _add_pod("kf-t-pb", "kf-t-b", str(b.subnet.network_address).rsplit(".", 1)[0], mtu)
    server = subprocess.Popen(["ip", "netns", "exec", "kf-t-pb", sys.executable, "-c", SERVER, ip_b],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().strip() == "listening"
        sh(sys.executable, "-c", CLIENT, ip_b, ns="kf-t-pa")
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    # The pod's own address arrives (no masquerade inside the cluster network), all bytes.
    assert out.split() == [ip_a, str(len(b"hello-through-flannel") + 100000), "hello-through-flannel" + "x" * 11], err

    # Host B leaves: A's next loop removes its route, neighbour and fdb entry.
    client.delete(f"/coreos.com/network/subnets/{b.subnet.network_address}-24")
    cmds = a.sync_once()
    assert any(cmd.startswith("ip route del " + str(b.subnet)) for cmd in cmds)
    if backend == "vxlan":
        assert any(cmd.startswith("bridge fdb del") for cmd in cmds)
    assert str(b.subnet) not in sh("ip", "route", "show", ns="kf-t-a")


def test_agent_process_heartbeat_and_sigterm(etcd_clean: EtcdServer, tmp_path: Path, hosts: dict[str, str]) -> None:  # noqa: F811
    """`python3 -m kubeform.agent` as systemd runs it: Ready while running, NotReady on SIGTERM."""
    import signal
    import time

    c = etcd_clean.cluster
    client = EtcdClient([etcd_clean.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key))
    client.put("/coreos.com/network/config", json.dumps({"Network": "10.244.0.0/16", "Backend": BACKENDS["vxlan"]}))
    config = tmp_path / "agent.json"
    config.write_text(json.dumps({
        "node_name": "kf-t-a",
        "etcd": {"endpoints": [etcd_clean.endpoint], "ca_file": str(c.ca_cert),
                 "cert_file": str(c.admin_cert), "key_file": str(c.admin_key)},
        "interface": "eth0",
        "netns": "kf-t-a",
        "subnet_env": str(tmp_path / "subnet.env"),
    }))
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "kubeform.agent", "--config", str(config)],
                            cwd=root, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while (client.get("/registry/leases/kube-node-lease/kf-t-a") is None
               or client.get("/registry/minions/kf-t-a") is None):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "agent did not register"
            time.sleep(0.2)
        node = json.loads(client.get("/registry/minions/kf-t-a").value)  # type: ignore[union-attr]
        assert node["spec"]["podCIDR"].startswith("10.244.")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert client.get("/registry/leases/kube-node-lease/kf-t-a") is None
    assert "BEGIN" not in err and "PRIVATE" not in err  # no key material in logs
