"""Data-driven cases of the swap module (tests/data/modules/swap/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("swap"))
def test_swap(case: Path) -> None:
    check_case(case)
