"""Data-driven cases of the mysql_replication module (tests/data/modules/mysql_replication/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("mysql_replication"))
def test_mysql_replication(case: Path) -> None:
    check_case(case)
