"""/etc/hosts and /etc/resolv.conf for pods (kubeform.agent.runtime.podfiles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import podfiles

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "podfiles" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["netns_name"])
def test_netns_name(case: dict[str, Any]) -> None:
    assert podfiles.netns_name(case["uid"]) == case["want"]


@pytest.mark.parametrize("case", CASES["hosts"], ids=lambda c: c["name"])
def test_hosts(case: dict[str, Any]) -> None:
    text = podfiles.hosts_file(**case["args"])
    assert text.startswith(podfiles.HOSTS_HEADER)
    assert text.splitlines()[-1] == case["last"]


@pytest.mark.parametrize("case", CASES["resolv"], ids=lambda c: c["name"])
def test_resolv(case: dict[str, Any]) -> None:
    host = podfiles.parse_resolv(case["host"])
    got = podfiles.resolv_conf(case["policy"], case["namespace"], "10.96.0.10", "cluster.local", host)
    assert got == case["want"]


@pytest.mark.parametrize("case", CASES["host_resolv_path"])
def test_host_resolv_path(case: dict[str, Any]) -> None:
    assert podfiles.host_resolv_path(case["text"]) == case["want"]
