"""needs_scheduling / loads_node against tests/data/scheduler/pending.yaml."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeform.reconciler.scheduler import loads_node, needs_scheduling

from .cases import DATA

CASES = yaml.safe_load((DATA / "pending.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_pending(case: dict[str, Any]) -> None:
    assert needs_scheduling(case["pod"]) is case["needs"]
    assert loads_node(case["pod"]) is case["loads"]
