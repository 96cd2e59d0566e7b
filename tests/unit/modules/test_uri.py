"""Data-driven cases of the uri module (tests/data/modules/uri/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("uri"))
def test_uri(case: Path) -> None:
    check_case(case)
