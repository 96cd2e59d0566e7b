"""Data-driven cases of the service_facts module (tests/data/modules/service_facts/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("service_facts"))
def test_service_facts(case: Path) -> None:
    check_case(case)
