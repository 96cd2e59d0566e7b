"""selinux module: recorded probe output of CentOS 7 / Rocky 9 / Debian 12 in, commands out."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("path", case_params("selinux"))
def test_case(path: Path) -> None:
    check_case(path)


RECORDED = Path(__file__).resolve().parent.parent.parent / "data" / "recorded"


@pytest.mark.parametrize("host", ["centos7", "rocky9"])
def test_recorded_disable(host: str) -> None:
    """getenforce + the stock config of each EL release -> setenforce 0, SELINUX=disabled."""
    from kubeform.modules.selinux import SELinux, parse_selinux

    d = RECORDED / host
    out = f"mode={(d / 'getenforce.txt').read_text().strip()}\n== config\n"
    out += (d / "selinux-config").read_text()
    mod = SELinux()
    (fact,) = mod.facts({"state": "disabled"})
    changes = mod.plan({"state": "disabled"}, {fact.key: parse_selinux(out, 0)})
    assert [c.steps[0].describe().split(" (")[0] for c in changes] == [
        "setenforce 0",
        "upload /etc/selinux/config",
    ]
    diff = changes[1].diff
    assert diff is not None and diff.after is not None
    assert "\nSELINUX=disabled\n" in diff.after and "SELINUX=enforcing" not in diff.after
    assert mod.result({"state": "disabled"}, {fact.key: parse_selinux(out, 0)}, [])[
        "reboot_required"
    ]


def test_recorded_debian_absent() -> None:
    from kubeform.modules.selinux import parse_selinux

    mode = (RECORDED / "debian12" / "getenforce.txt").read_text().strip()
    assert parse_selinux(f"mode={mode}\n", 0) == {"mode": "absent", "config": None}
