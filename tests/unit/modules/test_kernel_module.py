"""Data-driven cases of the kernel_module module (tests/data/modules/kernel_module/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("kernel_module"))
def test_kernel_module(case: Path) -> None:
    check_case(case)


def test_modprobe_alias_and_fqcn() -> None:
    from kubeform.modules import lookup
    from kubeform.modules.kernel_module import KernelModule

    assert lookup("community.general.modprobe") is KernelModule
    assert lookup("kernel_module") is KernelModule
