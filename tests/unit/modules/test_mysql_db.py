"""Data-driven cases of the mysql_db module (tests/data/modules/mysql_db/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("mysql_db"))
def test_mysql_db(case: Path) -> None:
    check_case(case)
