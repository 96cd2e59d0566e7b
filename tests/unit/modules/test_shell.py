"""Data-driven cases of the shell module (tests/data/modules/shell/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("shell"))
def test_shell(case: Path) -> None:
    check_case(case)
