"""`kubeform down`'s proxy cleanup leaves no KUBE- chain: in a network namespace the test
creates and removes, the agent's own iptables sync writes a small service map (with the
jump rules from the built-in chains), then `python3 -m kubeform.agent.proxy cleanup
--netns` (what playbooks/reset.yml runs) removes every rule and chain it made, in every
iptables flavour the host has."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from kubeform.agent.proxy.iptables_host import IptablesHost, choose_binary, installed_binaries
from kubeform.agent.proxy.proxier import IptablesBackend
from kubeform.api import servicemap

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
]

NETNS = f"kf-t-proxy-{os.getpid()}"


@pytest.fixture()
def netns() -> Iterator[str]:
    subprocess.run(["ip", "netns", "add", NETNS], check=True)
    try:
        yield NETNS
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], check=False)


def entry(name: str, ip: str, endpoints: int, node_port: int = 0) -> dict[str, object]:
    eps = [{"ip": f"10.244.{i}.5", "port": 8080, "node": f"kf-node{i}"} for i in range(endpoints)]
    return {"namespace": "demo", "name": name, "type": "NodePort" if node_port else "ClusterIP", "clusterIP": ip,
            "sessionAffinity": "None", "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster",
            "internalTrafficPolicy": "Cluster", "addresses": [],
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": node_port, "endpoints": eps}]}


def saved(ns: str) -> str:
    return "".join(subprocess.run(["ip", "netns", "exec", ns, f"{b}-save"], capture_output=True, text=True, check=True).stdout
                   for b in installed_binaries())


def test_cleanup_leaves_no_kube_chain(netns: str) -> None:
    host = IptablesHost(netns)
    backend = IptablesBackend(host)
    ctx = backend.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    entries = [entry("web", "10.96.0.20", 3, 30080), entry("empty", "10.96.0.21", 0)]
    items = [(servicemap.key("demo", str(e["name"])), 1, e) for e in entries]
    backend.sync(items, ctx, full=True)
    before = saved(netns)
    assert "KUBE-SEP-" in before and "-A PREROUTING" in before and "REJECT" in before

    proc = subprocess.run([sys.executable, "-m", "kubeform.agent.proxy", "cleanup", "--netns", netns],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip().split("=")[1]) > 0
    assert "KUBE-" not in saved(netns)
    again = subprocess.run([sys.executable, "-m", "kubeform.agent.proxy", "cleanup", "--netns", netns],
                           capture_output=True, text=True, check=True)
    assert again.stdout.strip() == "removed=0"


def test_choose_binary_follows_the_host() -> None:
    assert choose_binary(None, 40) == "iptables"  # one flavour installed (CentOS 7)
    assert choose_binary(0, 0) == "iptables"  # a fresh host: the system's alternative
    assert choose_binary(3, 40) == "iptables-nft"
    assert choose_binary(55, 2) == "iptables-legacy"


def test_a_host_without_a_route_gets_the_service_network_routed(netns: str) -> None:
    """No default route (a lab machine): the ClusterIP range is routed on the node's
    interface, so a Service without endpoints REJECTs instead of "network unreachable";
    down's cleanup removes the route again."""
    def ip(*argv: str) -> str:
        return subprocess.run(["ip", "netns", "exec", netns, "ip", *argv], capture_output=True, text=True, check=True).stdout

    ip("link", "add", "kf-t-eth0", "type", "veth", "peer", "name", "kf-t-eth1")
    ip("addr", "add", "192.168.56.11/24", "dev", "kf-t-eth0")
    ip("link", "set", "kf-t-eth0", "up")
    host = IptablesHost(netns)
    assert host.ensure_service_route("10.96.0.0/12", "192.168.56.11")
    assert "10.96.0.0/12 dev kf-t-eth0" in ip("route")
    assert not host.ensure_service_route("10.96.0.0/12", "192.168.56.11")  # routed now
    subprocess.run([sys.executable, "-m", "kubeform.agent.proxy", "cleanup", "--netns", netns], check=True, capture_output=True)
    assert "10.96.0.0/12" not in ip("route")
