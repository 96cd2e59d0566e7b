"""Data-driven cases of the blockinfile module (tests/data/modules/blockinfile/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("blockinfile"))
def test_blockinfile(case: Path) -> None:
    check_case(case)
