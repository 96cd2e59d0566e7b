"""Reading CRI logs back for `kubeform logs` (kubeform.agent.runtime.crireader), data-driven."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import crireader

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "crireader" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["texts"], ids=lambda c: c["name"])
def test_texts(case: dict[str, Any]) -> None:
    assert crireader.texts(case["lines"]) == case["want"]


@pytest.mark.parametrize("case", CASES["tail"], ids=str)
def test_tail(case: dict[str, Any]) -> None:
    assert crireader.tail(case["items"], case["n"]) == case["want"]


@pytest.mark.parametrize("case", CASES["choose"], ids=lambda c: c["name"])
def test_choose_attempt(case: dict[str, Any]) -> None:
    assert list(crireader.choose_attempt(case["names"], case["previous"])) == case["want"]


def test_log_dir_is_the_kubelets_layout() -> None:
    assert crireader.log_dir("/var/log/pods", "ns", "web", "u1", "app") == "/var/log/pods/ns_web_u1/app"
