"""Data-driven cases of the getent module (tests/data/modules/getent/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("getent"))
def test_getent(case: Path) -> None:
    check_case(case)
