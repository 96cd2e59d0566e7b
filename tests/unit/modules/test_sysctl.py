"""Data-driven cases of the sysctl module (tests/data/modules/sysctl/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("sysctl"))
def test_sysctl(case: Path) -> None:
    check_case(case)
