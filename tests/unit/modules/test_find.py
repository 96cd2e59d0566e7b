"""Data-driven cases of the find module (tests/data/modules/find/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("find"))
def test_find(case: Path) -> None:
    check_case(case)
