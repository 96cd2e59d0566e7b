"""Data-driven cases of the timezone module (tests/data/modules/timezone/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("timezone"))
def test_timezone(case: Path) -> None:
    check_case(case)
