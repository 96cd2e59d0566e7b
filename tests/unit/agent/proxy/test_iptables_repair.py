"""The repair check (kubeform.agent.proxy.iptables_repair) against the cases of
tests/data/agent_proxy/iptables_repair/cases.yaml: saved tables and written rule counts in,
the differences out."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.agent.proxy import iptables_repair, iptables_rules, iptables_sync

from .golden import DATA, load

CASES: list[dict[str, Any]] = load(DATA / "iptables_repair" / "cases.yaml")  # type: ignore[assignment]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_drift(case: dict[str, Any]) -> None:
    jumps = [j for j in iptables_sync.JUMPS if f"{j.table} {j.src} {j.dst}" in case["jumps"]]
    got = iptables_repair.drift(case["saved"], case["written"], jumps, case.get("limit", 5))
    assert got == case["drift"]


def test_saved_counts_declared_chains_without_rules() -> None:
    text = "*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-B -j RETURN\n-A KUBE-B -j RETURN\nCOMMIT\n"
    assert iptables_repair.saved_counts(text) == {"KUBE-A": 0, "KUBE-B": 2}


def test_written_counts_of_a_rendered_ruleset_match_its_restore() -> None:
    """What a full sync writes, restored and saved, is what the check expects: the counts of
    the rendered chains equal the -A lines the restore text holds for them."""
    ctx = iptables_rules.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    entry = {"namespace": "demo", "name": "web", "type": "NodePort", "clusterIP": "10.96.5.10", "sessionAffinity": "None",
             "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster", "addresses": [],
             "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 30080,
                        "endpoints": [{"ip": "10.244.1.5", "port": 8080, "node": "kf-node1"}]}]}
    ruleset = iptables_rules.render([entry], ctx)
    written = iptables_repair.written_counts(ruleset.items())
    text = iptables_sync.restore_text(ruleset)
    nat = text[text.index("*nat"):]
    assert written["nat"] == iptables_repair.saved_counts(nat)
