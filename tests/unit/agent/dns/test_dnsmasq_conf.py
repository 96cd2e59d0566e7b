"""The node DNS server's config as `kubeform up` writes it: rendered from site.yml, compared
with tests/data/agent/dns/dnsmasq_conf.yaml.

The decision under test: dnsmasq binds the node's address (``bind-interfaces``). With
``bind-dynamic`` dnsmasq 2.90 closed every TCP connection from a pod (it arrives on cni0,
which holds no listen address) while answering UDP, so DNS over TCP failed cluster-wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine import templating

ROOT = Path(__file__).resolve().parents[4]
SITE = ROOT / "kubeform" / "data" / "playbooks" / "site.yml"
CASES = ROOT / "tests" / "data" / "agent" / "dns" / "dnsmasq_conf.yaml"


def _task(name: str) -> dict[str, Any]:
    for play in yaml.safe_load(SITE.read_text()):
        for task in play.get("tasks") or []:
            if task.get("name") == name:
                return dict(task)
    raise AssertionError(f"no task {name!r} in {SITE}")


def _cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load(CASES.read_text())["cases"])


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_rendered_conf(case: dict[str, Any]) -> None:
    task = _task("Cluster DNS config")
    assert task["copy"]["dest"] == "/etc/kubeform/dnsmasq.conf"
    got = templating.render_string(task["copy"]["content"], case["vars"])
    assert got == case["conf"]


def test_binds_the_address_so_pods_reach_it_over_tcp() -> None:
    lines = _task("Cluster DNS config")["copy"]["content"].splitlines()
    assert "bind-interfaces" in lines
    assert "bind-dynamic" not in lines  # drops TCP from pods (docs/services.md)


def test_unit_retries_until_the_address_is_there() -> None:
    """bind-interfaces makes dnsmasq exit while the node's address is missing (early boot):
    the unit must keep restarting it, not stop after systemd's default 5 starts in 10 s."""
    unit = _task("Cluster DNS unit")["copy"]["content"]
    assert "StartLimitIntervalSec=0" in unit.split("[Service]")[0]
    assert "Restart=always" in unit
