"""Data-driven cases of the stat module (tests/data/modules/stat/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("stat"))
def test_stat(case: Path) -> None:
    check_case(case)
