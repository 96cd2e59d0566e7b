"""selinux module: recorded probe output of CentOS 7 / Rocky 9 / Debian 12 in, commands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("selinux"))
def test_case(path: Path) -> None:
    check_case(path)
