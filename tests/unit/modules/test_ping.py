"""Data-driven cases of the ping module (tests/data/modules/ping/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("ping"))
def test_ping(case: Path) -> None:
    check_case(case)
