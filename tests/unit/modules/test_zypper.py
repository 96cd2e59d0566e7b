"""Data-driven cases of the zypper module (tests/data/modules/zypper/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("zypper"))
def test_zypper(case: Path) -> None:
    check_case(case)
