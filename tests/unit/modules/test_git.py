"""Data-driven cases of the git module (tests/data/modules/git/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("git"))
def test_git(case: Path) -> None:
    check_case(case)
