"""Data-driven cases of the slurp module (tests/data/modules/slurp/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("slurp"))
def test_slurp(case: Path) -> None:
    check_case(case)
