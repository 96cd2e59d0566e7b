"""service module: recorded ``systemctl show`` output in, systemctl commands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.modules import lookup
from kubeform.modules.service import parse_show
from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("service"))
def test_case(path: Path) -> None:
    check_case(path)


def test_aliases_resolve() -> None:
    assert lookup("systemd") is lookup("ansible.builtin.systemd_service") is lookup("service")


def test_parse_show_ignores_noise() -> None:
    assert parse_show("Id=a.service\nnoise\nUnitFileState=\n", 0) == {
        "Id": "a.service",
        "UnitFileState": "",
    }
