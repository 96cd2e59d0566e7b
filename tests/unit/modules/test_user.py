"""Data-driven cases of the user module (tests/data/modules/user/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("user"))
def test_user(case: Path) -> None:
    check_case(case)
