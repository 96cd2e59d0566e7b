"""firewalld module: recorded probe output of CentOS 7 / Rocky 9 / Debian 12 in, commands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("firewalld"))
def test_case(path: Path) -> None:
    check_case(path)


RECORDED = Path(__file__).resolve().parent.parent.parent / "data" / "recorded"


@pytest.mark.parametrize("host", ["centos7", "rocky9"])
def test_recorded_open_api_port(host: str) -> None:
    from kubeform.modules.firewalld import Firewalld, parse_firewalld

    d = RECORDED / host
    ports = (d / "firewall-cmd-list-ports.txt").read_text()
    out = "installed=yes\n== unit\n" + (d / "systemctl-show-firewalld.txt").read_text()
    out += "== state\n" + (d / "firewall-cmd-state.txt").read_text()
    out += "== runtime\n" + ports + "== permanent\n" + ports
    mod = Firewalld()
    args = {"port": "6443/tcp"}
    (fact,) = mod.facts(args)
    steps = [c.steps[0].describe() for c in mod.plan(args, {fact.key: parse_firewalld(out, 0)})]
    assert steps == [
        "firewall-cmd --permanent --add-port=6443/tcp",
        "firewall-cmd --add-port=6443/tcp",
    ]
