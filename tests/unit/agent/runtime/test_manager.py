"""The runtime manager's pure piece: which pod changes wake a pass
(tests/data/agent_runtime/manager)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import manager

CASES = yaml.safe_load((Path(__file__).parents[3] / "data" / "agent_runtime" / "manager" / "needs_pass.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_needs_pass(case: dict[str, Any]) -> None:
    assert manager.needs_pass(case["node"], case["before"], case["after"]) is case["want"]


SANDBOX_CASES = yaml.safe_load((Path(__file__).parents[3] / "data" / "agent_runtime" / "manager" / "sandbox_spec.yaml").read_text())


@pytest.mark.parametrize("case", SANDBOX_CASES, ids=[c["name"] for c in SANDBOX_CASES])
def test_sandbox_spec(case: dict[str, Any]) -> None:
    assert manager.sandbox_spec_of(case["pod"])._asdict() == case["want"]
