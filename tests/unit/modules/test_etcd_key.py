"""etcd_key module: recorded etcdctl output + arguments -> the expected put/delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("etcd_key"))
def test_cases(case: Path) -> None:
    check_case(case)
