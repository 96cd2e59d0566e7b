"""Data-driven cases of the get_url module (tests/data/modules/get_url/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("get_url"))
def test_get_url(case: Path) -> None:
    check_case(case)
