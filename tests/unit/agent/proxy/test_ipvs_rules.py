"""ipvs mode's rendering (kubeform.agent.proxy.ipvs_rules) against golden files:
tests/data/agent_proxy/ipvs/<case>.yaml (a service map, optionally the kernel's current
table and kube-ipvs0 addresses) in, <case>.golden out: the ipvsadm-restore text of the
whole table, the changes against the current one, the ipset-restore text, the
kube-ipvs0 address commands and the iptables helper rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.agent.proxy import iptables_rules, iptables_sync, ipvs_rules

from .golden import DATA, cases, check, load

CONTEXT = load(DATA / "iptables" / "_context.yaml")


@pytest.mark.parametrize("path", cases("ipvs"), ids=lambda p: p.stem)
def test_ipvs_golden(path: Path) -> None:
    case = load(path)
    ctx = iptables_rules.context(CONTEXT["node_name"], CONTEXT["node_ips"], CONTEXT["cluster_cidr"], CONTEXT["random_fully"])
    state = ipvs_rules.render(case["map"], ctx)
    current = ipvs_rules.parse_ipvsadm_save(case.get("current") or "")
    addresses = ipvs_rules.address_commands(state.addresses, [str(a) for a in case.get("current_addresses") or []])
    sections = [
        ("ipvsadm-restore: the whole table", ipvs_rules.ipvsadm_text(state.virtual)),
        ("ipvsadm-restore: changes against the current table", ipvs_rules.ipvs_commands(state.virtual, current)),
        ("ipset restore", ipvs_rules.ipset_text(state.ipsets)),
        ("kube-ipvs0", "".join(" ".join(argv) + "\n" for argv in addresses)),
        ("iptables-restore: helper rules", iptables_sync.restore_text(state.rules)),
    ]
    check(path, ".golden", "".join(f"# {title}\n{text}" for title, text in sections))


def test_parse_ipvsadm_save_round_trip() -> None:
    """What ipvsadm_text writes, `ipvsadm -Sn` prints back the same: no changes."""
    case = load(DATA / "ipvs" / "clusterip_nodeport.yaml")
    ctx = iptables_rules.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16", True)
    state = ipvs_rules.render(case["map"], ctx)
    again = ipvs_rules.parse_ipvsadm_save(ipvs_rules.ipvsadm_text(state.virtual))
    assert ipvs_rules.ipvs_commands(state.virtual, again) == ""
