"""etcd_member module: recorded `member list -w json` output + arguments -> the expected member add."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("etcd_member"))
def test_cases(case: Path) -> None:
    check_case(case)
