"""Data-driven cases of the pacman module (tests/data/modules/pacman/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("pacman"))
def test_pacman(case: Path) -> None:
    check_case(case)
