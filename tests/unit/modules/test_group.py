"""Data-driven cases of the group module (tests/data/modules/group/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("group"))
def test_group(case: Path) -> None:
    check_case(case)
