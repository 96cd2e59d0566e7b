"""Data-driven cases of the rpm_key module (tests/data/modules/rpm_key/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("rpm_key"))
def test_rpm_key(case: Path) -> None:
    check_case(case)
