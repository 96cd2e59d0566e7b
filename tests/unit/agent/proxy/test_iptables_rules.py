"""kube-proxy's iptables rules from the service map (kubeform.agent.proxy.iptables_rules),
against golden files: tests/data/agent_proxy/iptables/<case>.yaml in, <case>.restore out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.proxy import chains, iptables_rules, iptables_sync
from kubeform.agent.proxy.proxier import IptablesBackend
from kubeform.api import servicemap

from .golden import DATA, cases, check, load

CONTEXT = load(DATA / "iptables" / "_context.yaml")


def ctx_of(case: dict[str, Any]) -> iptables_rules.ProxyContext:
    c = case.get("context") or CONTEXT
    return iptables_rules.context(c["node_name"], c["node_ips"], c["cluster_cidr"], c["random_fully"])


@pytest.mark.parametrize("path", cases("iptables"), ids=lambda p: p.stem)
def test_render_golden(path: Path) -> None:
    case = load(path)
    ruleset = iptables_rules.render(case["map"], ctx_of(case))
    check(path, ".restore", iptables_sync.restore_text(ruleset))


@pytest.mark.parametrize("path", cases("iptables_sync"), ids=lambda p: p.stem)
def test_sync_golden(path: Path) -> None:
    case = load(path)
    ctx = ctx_of(case)
    before = iptables_rules.render(case["before"], ctx)
    after = iptables_rules.render(case["after"], ctx)
    existing = {t: set(c) for t, c in (case.get("existing") or {}).items()}
    jumps = [j for j in iptables_sync.JUMPS if f"{j.table} {j.src} {j.dst}" in (case.get("jumps") or [])]
    assert len(jumps) == len(case.get("jumps") or []), "a jump of the case is not kube-proxy's"
    text = iptables_sync.restore_text(after, None if case.get("full") else before, existing, jumps, case.get("batch", 0))
    check(path, ".restore", text)


def test_known_chain_names() -> None:
    """Names every kube-proxy host has for the same Service ports."""
    assert chains.svc_chain("default/kubernetes:https", "TCP") == "KUBE-SVC-NPX46M4PTMTKRN6Y"
    assert chains.svc_chain("kube-system/kube-dns:dns", "UDP") == "KUBE-SVC-TCOU7JCQXEZGVUNU"
    assert chains.svc_chain("kube-system/kube-dns:dns-tcp", "TCP") == "KUBE-SVC-ERIFXISQEP7F7OF4"
    assert chains.service_port_name("ns", "svc", "") == "ns/svc"


def test_probability_formatting() -> None:
    assert [iptables_rules.probability(n) for n in (2, 3, 7)] == ["0.5000000000", "0.3333333333", "0.1428571429"]


def test_large_cluster_drops_endpoint_comments() -> None:
    """Over 1,000 endpoints in all, kube-proxy leaves the comments off SEP and SVC->SEP rules."""
    eps = [{"ip": f"10.244.{i // 250}.{i % 250 + 1}", "port": 80, "node": "kf-node2"} for i in range(1001)]
    entry = {"namespace": "demo", "name": "big", "type": "ClusterIP", "clusterIP": "10.96.1.1",
             "sessionAffinity": "None", "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster",
             "internalTrafficPolicy": "Cluster", "addresses": [],
             "ports": [{"name": "", "protocol": "TCP", "port": 80, "nodePort": 0, "endpoints": eps}]}
    ruleset = iptables_rules.render([entry], ctx_of({}))
    svc = chains.svc_chain("demo/big", "tcp")
    rules = iptables_rules.lines(ruleset["nat"][svc])
    assert "--comment" not in rules[1]
    assert "--comment" in rules[0]  # the cluster-IP masquerade rule keeps it
    sep = chains.sep_chain("demo/big", "tcp", "10.244.0.1:80")
    assert iptables_rules.lines(ruleset["nat"][sep])[0] == f"-A {sep} -s 10.244.0.1 -j KUBE-MARK-MASQ"


def test_missing_jumps_and_cleanup() -> None:
    saved = {
        "nat": "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n"
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\nCOMMIT\n',
        "filter": "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
    }
    missing = iptables_sync.missing_jumps(saved)
    assert len(missing) == len(iptables_sync.JUMPS) - 1
    assert ["-t", "nat", "-I", "PREROUTING"] not in [m[:4] for m in missing]
    assert missing[0] == ["-t", "filter", "-I", "INPUT", "-m", "conntrack", "--ctstate", "NEW", "-m", "comment",
                          "--comment", "kubernetes externally-visible service portals", "-j", "KUBE-EXTERNAL-SERVICES"]
    assert iptables_sync.cleanup_text(saved) == [
        ["-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "KUBE-SERVICES"]
    ]
    assert iptables_sync.cleanup_restore(saved) == "*nat\n:KUBE-SERVICES - [0:0]\n-X KUBE-SERVICES\nCOMMIT\n"


@pytest.mark.parametrize("path", [p for p in cases("iptables_sync") if not load(p).get("full")], ids=lambda p: p.stem)
def test_partial_sync_from_changed_services_only(path: Path) -> None:
    """The proxier's partial sync (cached per-Service rules, only changed Services looked
    at) writes exactly the golden partial-sync text."""
    case = load(path)
    ctx = ctx_of(case)
    backend = IptablesBackend(None)  # type: ignore[arg-type]  # rendering only: no host
    revisions: dict[str, int] = {}

    def items(entries: list[dict[str, Any]]) -> list[tuple[str, int, dict[str, Any]]]:
        return [(servicemap.key(e["namespace"], e["name"]), revisions.setdefault(servicemap.encode(e), len(revisions)), e)
                for e in entries]

    before_items = items(case["before"])
    before = backend.rendered(before_items, ctx)
    shared = iptables_rules.shared_ruleset(iptables_rules.assemble([before[k] for k, _r, _e in before_items], ctx))
    after_items = items(case["after"])
    after = backend.rendered(after_items, ctx)
    text, _ = iptables_sync.partial_restore_text(after, [k for k, _r, _e in after_items], before, shared, ctx)
    check(path, ".restore", text)
