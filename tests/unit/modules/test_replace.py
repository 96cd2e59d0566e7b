"""Data-driven cases of the replace module (tests/data/modules/replace/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("replace"))
def test_replace(case: Path) -> None:
    check_case(case)
