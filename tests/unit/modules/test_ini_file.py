"""Data-driven cases of the ini_file module (tests/data/modules/ini_file/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("ini_file"))
def test_ini_file(case: Path) -> None:
    check_case(case)
