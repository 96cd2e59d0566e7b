"""Data-driven cases of the pam_limits module (tests/data/modules/pam_limits/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("pam_limits"))
def test_pam_limits(case: Path) -> None:
    check_case(case)
