"""Base image cache decisions and the supervisor's restart rule."""

from __future__ import annotations

import json

import pytest

from kubeform.lab.image import PACKAGES, ImageSpec, debootstrap_argv, needs_build, stamp_text
from kubeform.lab.supervisor import next_step

SPEC = ImageSpec()


@pytest.mark.parametrize(
    ("stamp", "rebuild", "expected"),
    [
        (None, False, True),
        (stamp_text(SPEC), False, False),
        (stamp_text(SPEC), True, True),
        (stamp_text(ImageSpec(packages=(*PACKAGES, "curl"))), False, True),
        (stamp_text(ImageSpec(recipe=0)), False, True),
        ("not json", False, True),
        (json.dumps({**json.loads(stamp_text(SPEC)), "suite": "trixie"}), False, True),
    ],
)
def test_needs_build(stamp: str | None, rebuild: bool, expected: bool) -> None:
    assert needs_build(stamp, SPEC, rebuild) is expected


def test_stamp_ignores_package_order() -> None:
    assert stamp_text(ImageSpec(packages=tuple(reversed(PACKAGES)))) == stamp_text(SPEC)


def test_image_has_what_kubeform_up_needs() -> None:
    for pkg in ("systemd", "openssh-server", "python3", "etcd-server", "crun", "iptables",
                "ipvsadm", "conntrack", "busybox-static", "sudo"):
        assert pkg in PACKAGES


def test_debootstrap_argv() -> None:
    argv = debootstrap_argv(SPEC, "/tmp/x", "http://deb.debian.org/debian")
    assert argv[:2] == ["debootstrap", "--variant=minbase"]
    assert argv[-3:] == ["bookworm", "/tmp/x", "http://deb.debian.org/debian"]
    assert "etcd-server" in argv[2].split(",")


@pytest.mark.parametrize(
    ("rc", "stopping", "recent", "expected"),
    [
        (133, False, 0, "restart"),  # reboot inside the host
        (133, False, 4, "restart"),
        (133, False, 5, "exit"),  # crash loop
        (0, False, 0, "exit"),  # poweroff
        (133, True, 0, "exit"),  # lab stop during a reboot
        (1, False, 0, "exit"),  # nspawn failed or the machine was killed
    ],
)
def test_supervisor_next_step(rc: int, stopping: bool, recent: int, expected: str) -> None:
    assert next_step(rc, stopping, recent) == expected
