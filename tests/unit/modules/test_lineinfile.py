"""Data-driven cases of the lineinfile module (tests/data/modules/lineinfile/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("lineinfile"))
def test_lineinfile(case: Path) -> None:
    check_case(case)
