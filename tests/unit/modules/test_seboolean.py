"""Data-driven cases of the seboolean module (tests/data/modules/seboolean/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("seboolean"))
def test_seboolean(case: Path) -> None:
    check_case(case)
