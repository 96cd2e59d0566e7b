"""Data-driven cases of the fetch module (tests/data/modules/fetch/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("fetch"))
def test_fetch(case: Path) -> None:
    check_case(case)
