"""Data-driven cases of the hostname module (tests/data/modules/hostname/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("hostname"))
def test_hostname(case: Path) -> None:
    check_case(case)
