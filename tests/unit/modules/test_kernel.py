"""kernel module: version comparison, and recorded EL7/Rocky 9/Debian probes in, steps out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.modules.kernel import at_least, kernel_version
from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("kernel"))
def test_case(path: Path) -> None:
    check_case(path)


@pytest.mark.parametrize(
    ("release", "minimum", "expected"),
    [
        ("3.10.0-1160.el7.x86_64", "4.4", False),
        ("3.10.0-1160.119.1.el7.x86_64", "4.4", False),
        ("4.4.0", "4.4", True),
        ("4.4", "4.4.1", False),
        ("4.19.0-26-amd64", "4.4", True),
        ("5.4.270-1.el7.elrepo.x86_64", "4.4", True),
        ("4.18.0-513.el8.x86_64", "4.4", True),
        ("5.14.0-362.el9.x86_64", "4.4", True),
        ("5.14.0-362.el9.x86_64", "5.15", False),
        ("6.1.0-18-amd64", "6", True),
        ("4.10.0", "4.9", True),
    ],
)
def test_at_least(release: str, minimum: str, expected: bool) -> None:
    assert at_least(release, minimum) is expected


def test_kernel_version_head() -> None:
    assert kernel_version("5.4.270-1.el7.elrepo.x86_64") == (5, 4, 270)
    with pytest.raises(ValueError):
        kernel_version("unknown")


RECORDED = Path(__file__).resolve().parent.parent.parent / "data" / "recorded"


def _probe(host: str) -> str:
    """The kernel probe's output, assembled from single recorded commands of ``host``."""
    d = RECORDED / host
    parts = {
        "uname": "uname-r.txt",
        "os-release": "os-release",
        "container": "systemd-detect-virt-container.txt",
        "kernels": "rpm-q-kernel.txt",
        "elrepo": "rpm-q-elrepo-release.txt",
        "default": "grubby-default-kernel.txt",
        "menu": "grub2-menuentries.txt",
    }
    out = ""
    for name, file in parts.items():
        path = d / file
        out += f"== {name}\n" + (path.read_text() if path.exists() else "")
    return out


def test_recorded_centos7_needs_kernel_lt() -> None:
    from kubeform.modules.kernel import Kernel, parse_kernel_facts

    facts = parse_kernel_facts(_probe("centos7"), 0)
    assert facts.major == 7 and facts.is_el and facts.container is None
    assert facts.menu[0] == "CentOS Linux (3.10.0-1160.el7.x86_64) 7 (Core)"
    changes = Kernel().plan({}, {"kernel": facts})
    assert [c.summary for c in changes] == [
        "install the elrepo repository",
        "install kernel kernel-lt",
        "boot the new kernel by default",
        "reboot into kernel the new kernel",
    ]


def test_recorded_rocky9_is_fine() -> None:
    from kubeform.modules.kernel import Kernel, parse_kernel_facts

    facts = parse_kernel_facts(_probe("rocky9"), 0)
    assert facts.major == 9
    assert facts.default == "5.14.0-362.24.1.el9_3.x86_64"
    assert Kernel().plan({"min_version": "4.4"}, {"kernel": facts}) == []
