"""The node DNS records: service-map entries in, dnsmasq's hosts file and cname= file out
(tests/data/agent/dns/records.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.dns import records

ROOT = Path(__file__).resolve().parents[4]
CASES = ROOT / "tests" / "data" / "agent" / "dns" / "records.yaml"


def _cases() -> list[dict[str, Any]]:
    return list(yaml.safe_load(CASES.read_text())["cases"])


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_hosts(case: dict[str, Any]) -> None:
    assert records.hosts_text(case["entries"], case.get("domain", "cluster.local")) == records.HEADER + case["hosts"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_cnames(case: dict[str, Any]) -> None:
    assert records.cname_text(case["entries"], case.get("domain", "cluster.local")) == records.CNAME_HEADER + case["cnames"]


@pytest.mark.parametrize("name,ok", [
    ("my.database.example.com", True), ("a", True), ("x" * 63 + ".org", True), ("x" * 64 + ".org", False),
    ("a..b", False), ("a.b.", False), ("A.b", False), ("a_b.c", False), ("", False), ("a,b", False),
])
def test_is_dns_name(name: str, ok: bool) -> None:
    assert records.is_dns_name(name) is ok
