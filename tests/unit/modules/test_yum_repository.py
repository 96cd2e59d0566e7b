"""Data-driven cases of the yum_repository module (tests/data/modules/yum_repository/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("yum_repository"))
def test_yum_repository(case: Path) -> None:
    check_case(case)
