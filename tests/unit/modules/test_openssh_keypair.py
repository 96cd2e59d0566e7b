"""Data-driven cases of the openssh_keypair module (tests/data/modules/openssh_keypair/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("openssh_keypair"))
def test_openssh_keypair(case: Path) -> None:
    check_case(case)
