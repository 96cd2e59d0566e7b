"""Data-driven cases of the apt_repository module (tests/data/modules/apt_repository/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("apt_repository"))
def test_apt_repository(case: Path) -> None:
    check_case(case)
