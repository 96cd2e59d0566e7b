"""package module: recorded yum/dnf/apt probe output in, package manager commands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.modules._pkg import EVR, parse_spec, rpm_vercmp, satisfies
from kubeform.modules.package import parse_available, parse_policy
from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("package"))
def test_case(path: Path) -> None:
    check_case(path)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0", "1.0", 0),
        ("1.0", "1.0.1", -1),
        ("2.0", "10", -1),
        ("1.0~rc1", "1.0", -1),
        ("1.0^git1", "1.0", 1),
        ("1.el7", "1.el7_9", -1),
        ("a", "1", -1),
        ("5.4.270", "5.4.27", 1),
    ],
)
def test_rpm_vercmp(a: str, b: str, expected: int) -> None:
    assert rpm_vercmp(a, b) == expected
    assert rpm_vercmp(b, a) == -expected


def test_evr_epoch_wins() -> None:
    assert EVR.parse("1:1.0-1").compare(EVR.parse("2.0-1")) == 1
    assert str(EVR.parse("3:19.03.15-3.el7")) == "3:19.03.15-3.el7"


def test_specs_per_family() -> None:
    assert parse_spec("docker-ce >= 19.03", "rpm").install_arg == "docker-ce >= 19.03"
    assert parse_spec("nginx=1.18.*", "deb").name == "nginx"
    assert parse_spec("https://x/a.rpm", "rpm").is_file
    assert not parse_spec("kernel-lt", "rpm").is_file
    assert satisfies("1.18.0-6.1", "=", "1.18.*", "deb")
    assert not satisfies("1.20.0-1", "=", "1.18.*", "deb")
    assert satisfies("3:19.03.15-3.el7", "<", "20", "rpm")


def test_available_keeps_newest() -> None:
    text = "Available Packages\nkernel-lt.x86_64  5.4.270-1.el7.elrepo  elrepo-kernel\n"
    text += "kernel-lt.x86_64  5.4.9-1.el7.elrepo  elrepo-kernel\n"
    assert parse_available(text) == {"kernel-lt": "5.4.270-1.el7.elrepo"}


def test_policy_none() -> None:
    assert parse_policy("foo:\n  Installed: (none)\n  Candidate: (none)\n") == {"foo": "(none)"}


def test_recorded_yum_list_columns() -> None:
    """yum's three-column listing (recorded ``yum list installed``) parses name -> version."""
    text = (
        Path(__file__).resolve().parent.parent.parent
        / "data"
        / "recorded"
        / "centos7"
        / "yum-list-installed.txt"
    ).read_text()
    parsed = parse_available(text)
    assert parsed["kernel"] == "3.10.0-1160.el7"
    assert parsed["device-mapper-persistent-data"] == "0.8.5-3.el7_9.2"
    assert len(parsed) == 6
