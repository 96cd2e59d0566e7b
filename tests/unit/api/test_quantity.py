"""Quantities against tests/data/api/quantities.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api.quantity import QuantityError, amount, cpu_millis

DATA = Path(__file__).resolve().parents[2] / "data" / "api"
CASES = yaml.safe_load((DATA / "quantities.yaml").read_text())


@pytest.mark.parametrize(("text", "millis", "whole"), CASES["valid"], ids=[repr(c[0]) for c in CASES["valid"]])
def test_valid(text: Any, millis: int, whole: int) -> None:
    assert cpu_millis(text) == millis
    assert amount(text) == whole


@pytest.mark.parametrize("text", CASES["invalid"], ids=repr)
def test_invalid(text: Any) -> None:
    with pytest.raises(QuantityError):
        cpu_millis(text)
    with pytest.raises(QuantityError):
        amount(text)
