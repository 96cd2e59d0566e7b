"""`run -i --rm` polling decision: tests/data/printers/run_outcome.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.store import run_outcome

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "run_outcome.yaml").read_text()
)


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_outcome(case: dict[str, Any]) -> None:
    assert list(run_outcome.outcome(case["pod"])) == case["expected"]
