"""Data-driven cases of the mysql_user module (tests/data/modules/mysql_user/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("mysql_user"))
def test_mysql_user(case: Path) -> None:
    check_case(case)
