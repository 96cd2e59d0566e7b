"""Data-driven cases of the package_facts module (tests/data/modules/package_facts/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("package_facts"))
def test_package_facts(case: Path) -> None:
    check_case(case)
