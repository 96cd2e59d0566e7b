"""Data-driven cases of the mount module (tests/data/modules/mount/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("mount"))
def test_mount(case: Path) -> None:
    check_case(case)
