"""facts module: recorded probe output of four host kinds -> Ansible-named facts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubeform.modules import lookup
from kubeform.modules.facts import SYSTEM_FACTS, Facts, parse_system_facts
from tests.unit.modules.module_cases import case_params, check_case

RECORDED = Path(__file__).resolve().parent.parent.parent / "data" / "recorded"
HOSTS = ["centos7", "rocky9", "debian12", "debian12-nspawn"]


@pytest.mark.parametrize("path", case_params("facts"))
def test_case(path: Path) -> None:
    check_case(path)


@pytest.mark.parametrize("host", HOSTS)
def test_recorded_host(host: str) -> None:
    out = (RECORDED / host / "system_facts.out").read_text()
    expected = yaml.safe_load((RECORDED / host / "system_facts.expected.yml").read_text())
    assert parse_system_facts(out, 0) == expected


def test_key_points() -> None:
    """The facts the bootstrap playbooks branch on, spelled out."""
    el7 = parse_system_facts((RECORDED / "centos7" / "system_facts.out").read_text(), 0)
    assert el7["ansible_os_family"] == "RedHat"
    assert el7["ansible_distribution_major_version"] == "7"
    assert el7["ansible_pkg_mgr"] == "yum"
    assert el7["ansible_selinux"]["mode"] == "enforcing"
    assert "192.168.56.11" in el7["ansible_all_ipv4_addresses"]
    lab = parse_system_facts((RECORDED / "debian12-nspawn" / "system_facts.out").read_text(), 0)
    assert lab["ansible_virtualization_type"] == "systemd-nspawn"
    assert lab["ansible_virtualization_role"] == "guest"
    assert lab["ansible_interfaces"] == ["host0", "lo"]
    assert lab["ansible_default_ipv4"]["gateway"] == "192.168.56.1"


def test_empty_output_is_safe() -> None:
    facts = parse_system_facts("", 1)
    assert facts["ansible_default_ipv4"] == {}
    assert facts["ansible_selinux"] == {"status": "disabled"}


def test_result_and_aliases() -> None:
    assert lookup("setup") is lookup("gather_facts") is Facts
    mod = Facts()
    parsed = parse_system_facts((RECORDED / "rocky9" / "system_facts.out").read_text(), 0)
    res = mod.result({"filter": ["ansible_os_family", "ansible_pkg_mgr"]}, {"system": parsed}, [])
    assert res == {"ansible_facts": {"ansible_os_family": "RedHat", "ansible_pkg_mgr": "dnf"}}
    assert mod.result({}, {SYSTEM_FACTS.key: parsed}, [])["ansible_facts"] == parsed


@pytest.mark.parametrize(
    ("os_release", "variety"),
    [
        ('ID=debian\nVERSION_ID="12"\n', "Debian"),
        ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n', "Debian"),
        ('ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n', "RedHat"),
        ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.5"\n', "SUSE"),
    ],
)
def test_distribution_file_variety(os_release: str, variety: str) -> None:
    from kubeform.modules.facts import _distribution

    assert _distribution({"os-release": os_release})["ansible_distribution_file_variety"] == variety
