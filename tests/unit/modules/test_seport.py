"""Data-driven cases of the seport module (tests/data/modules/seport/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("seport"))
def test_seport(case: Path) -> None:
    check_case(case)
