"""`kubeform top pods|nodes`: kubectl top's tables from what the agents wrote."""

from __future__ import annotations

import datetime
from typing import Any

from kubeform.cli import top
from kubeform.cli.main import build_parser

NOW = datetime.datetime(2026, 1, 1, 12, 0, 30, tzinfo=datetime.UTC)


def _pod(ns: str, name: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    return {"metadata": {"namespace": ns, "name": name}, "status": {"usage": usage} if usage else {}}


def _usage(cpu: str | None, containers: list[tuple[str, str, str]], stamp: str = "2026-01-01T12:00:20Z") -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp": stamp, "window": "15s" if cpu else "0s", "memory": "0Ki",
                           "containers": [{"name": n, "cpu": c, "memory": m} for n, c, m in containers]}
    if cpu:
        out["cpu"] = cpu
        out["memory"] = f"{sum(int(m[:-2]) for _, _, m in containers)}Ki"
    return out


PODS = [
    _pod("default", "web-b", _usage("250m", [("app", "200m", "10240Ki"), ("log", "50m", "2048Ki")])),
    _pod("default", "web-a", _usage("900m", [("app", "900m", "5120Ki")])),
    _pod("default", "new", _usage(None, [("app", None, "1024Ki")])),  # first sample: no rate yet
    _pod("default", "stale", _usage("5m", [("app", "5m", "1024Ki")], stamp="2026-01-01T11:58:00Z")),
    _pod("kube-system", "dns", _usage("3m", [("dnsmasq", "3m", "4096Ki")])),
]


def test_top_pods() -> None:
    assert top.pods_table(PODS[:4], NOW, all_namespaces=False, containers=False) == (
        "NAME    CPU(cores)   MEMORY(bytes)\n"
        "web-a   900m         5Mi\n"
        "web-b   250m         12Mi\n"
    )
    assert top.pods_table(PODS, NOW, all_namespaces=True, containers=False, sort_by="memory") == (
        "NAMESPACE     NAME    CPU(cores)   MEMORY(bytes)\n"
        "default       web-b   250m         12Mi\n"
        "default       web-a   900m         5Mi\n"
        "kube-system   dns     3m           4Mi\n"
    )
    assert top.pods_table(PODS[:2], NOW, all_namespaces=False, containers=True) == (
        "POD     NAME   CPU(cores)   MEMORY(bytes)\n"
        "web-a   app    900m         5Mi\n"
        "web-b   app    200m         10Mi\n"
        "web-b   log    50m          2Mi\n"
    )
    assert top.pods_table(PODS[2:4], NOW, all_namespaces=False, containers=False) is None


def test_top_nodes() -> None:
    nodes = [
        {"metadata": {"name": "kf-node2"}, "status": {"allocatable": {"cpu": "1900m", "memory": "3932160Ki"}}},
        {"metadata": {"name": "kf-node1"}, "status": {"allocatable": {"cpu": "1900m", "memory": "3932160Ki"}}},
        {"metadata": {"name": "kf-master1"}, "status": {"allocatable": {"cpu": "1900m", "memory": "3932160Ki"}}},
    ]
    leases = {
        "kf-node1": {"holderIdentity": "kf-node1", "usage": {"cpu": "950m", "memory": "1966080Ki", "window": "15s",
                                                             "timestamp": "2026-01-01T12:00:29Z"}},
        "kf-node2": {"holderIdentity": "kf-node2", "usage": {"memory": "1024Ki", "window": "0s",
                                                             "timestamp": "2026-01-01T12:00:29Z"}},
    }
    assert top.nodes_table(nodes, leases, NOW) == (
        "NAME         CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
        "kf-node1     950m         50%         1920Mi          50%\n"
        "kf-master1   <unknown>    <unknown>   <unknown>       <unknown>\n"
        "kf-node2     <unknown>    <unknown>   <unknown>       <unknown>\n"
    )


def test_parser() -> None:
    args = build_parser().parse_args(["top", "pods", "-A", "--containers", "--sort-by", "cpu"])
    assert args.func is top.cmd_top_pods and args.all_namespaces and args.containers
    args = build_parser().parse_args(["top", "node"])
    assert args.func is top.cmd_top_nodes
