"""Data-driven cases of the zypper_repository module (tests/data/modules/zypper_repository/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("zypper_repository"))
def test_zypper_repository(case: Path) -> None:
    check_case(case)
