"""Why a lab cannot start: root, tools, subnet and name (tests/data/lab/subnet_checks.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.lab import preflight

DATA = Path(__file__).parent.parent.parent / "data" / "lab"
SUBNETS: list[dict[str, Any]] = yaml.safe_load((DATA / "subnet_checks.yml").read_text())


@pytest.mark.parametrize("case", SUBNETS, ids=[c["name"] for c in SUBNETS])
def test_subnet(case: dict[str, Any]) -> None:
    err = preflight.check_subnet(
        "kubeform",
        case["subnet"],
        "kf-kubeform",
        ip_addr_json=case["addrs"],
        ip_route_json=case["routes"],
        other_labs=case["labs"],
        nameservers=case.get("nameservers", []),
    )
    if case["error"] is None:
        assert err is None
    else:
        assert err is not None and case["error"] in str(err)
        assert err.field == "--subnet"


def test_root() -> None:
    assert preflight.check_root(0) is None
    err = preflight.check_root(1000)
    assert err is not None and "sudo" in str(err)


@pytest.mark.parametrize(
    ("present", "need", "fragment"),
    [
        ({"systemd-nspawn": True, "debootstrap": True}, ["systemd-nspawn", "debootstrap"], None),
        ({"debootstrap": True}, ["systemd-nspawn", "debootstrap"], "apt-get install systemd-container"),
        ({}, ["systemd-nspawn", "debootstrap"], "apt-get install systemd-container debootstrap"),
        ({"systemd-nspawn": True}, ["systemd-nspawn"], None),
    ],
)
def test_tools(present: dict[str, bool], need: list[str], fragment: str | None) -> None:
    err = preflight.check_tools(present, need)
    if fragment is None:
        assert err is None
    else:
        assert err is not None and fragment in str(err)
        assert "\n" not in str(err)


@pytest.mark.parametrize(
    ("recorded", "asked", "fragment"),
    [
        ((None, None), ("192.168.56.0/24", 3), None),
        (("192.168.56.0/24", 3), ("192.168.56.0/24", 3), None),
        (("192.168.56.0/24", 3), ("192.168.56.0/24", 5), "already exists with 3 hosts"),
        (("192.168.56.0/24", 3), ("192.168.58.0/24", 3), "lab down --name kubeform"),
    ],
)
def test_existing(
    recorded: tuple[str | None, int | None], asked: tuple[str, int], fragment: str | None
) -> None:
    err = preflight.check_existing(
        "kubeform", recorded_subnet=recorded[0], recorded_hosts=recorded[1],
        subnet=asked[0], hosts=asked[1],
    )
    assert (err is None) if fragment is None else (err is not None and fragment in str(err))


def test_image_in_use() -> None:
    assert preflight.check_image_in_use([]) is None
    err = preflight.check_image_in_use(["kftest", "kubeform"])
    assert err is not None and "kftest, kubeform" in str(err)


@pytest.mark.parametrize(
    ("has_state", "links", "fragment"),
    [
        (False, ["lo", "eth0"], None),
        (True, ["lo", "kf-kubeform"], None),
        (False, ["lo", "kf-kubeform"], "interface kf-kubeform exists but there is no lab"),
    ],
)
def test_name(has_state: bool, links: list[str], fragment: str | None) -> None:
    err = preflight.check_name("kubeform", has_state=has_state, bridge="kf-kubeform", links=links)
    assert (err is None) if fragment is None else (err is not None and fragment in str(err))


def test_nameservers_read_from_resolv_conf(tmp_path: Path) -> None:
    """Only `nameserver ADDR` lines count; a missing file means none."""
    from kubeform.lab import system

    conf = tmp_path / "resolv.conf"
    conf.write_text("# generated\nsearch lan\nnameserver 10.255.255.53\nnameserver fd00::53\n")
    assert system.nameservers(str(conf)) == ["10.255.255.53", "fd00::53"]
    assert system.nameservers(str(tmp_path / "missing")) == []
