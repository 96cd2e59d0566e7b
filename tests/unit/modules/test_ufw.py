"""Data-driven cases of the ufw module (tests/data/modules/ufw/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("ufw"))
def test_ufw(case: Path) -> None:
    check_case(case)
