"""Data-driven cases of the deb822_repository module (tests/data/modules/deb822_repository/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("deb822_repository"))
def test_deb822_repository(case: Path) -> None:
    check_case(case)
