"""stopsignal: the image's StopSignal in any spelling (tests/data/agent_runtime/stopsignal)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import stopsignal

from .cases import DATA

CASES = yaml.safe_load((DATA / "stopsignal" / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: repr(c["text"]))
def test_canonical_and_short(case: dict[str, Any]) -> None:
    assert stopsignal.canonical(case["text"]) == case["canonical"]
    assert stopsignal.short(case["text"]) == case["short"]
