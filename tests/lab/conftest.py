"""One lab per test run, of its own name and subnet, always removed at the end.

The lab is ``kftest`` on 192.168.57.0/24, so it can never collide with a lab someone
started by hand (``kubeform`` on 192.168.56.0/24). It is torn down in a finally block
and by atexit, so a failing or interrupted run leaves no machine, namespace or mount.
"""

from __future__ import annotations

import atexit
import os
import shutil
from collections.abc import Iterator

import pytest
from rich.console import Console

from kubeform.lab import manager
from kubeform.lab.state import LabState

LAB_NAME = "kftest"
LAB_SUBNET = "192.168.57.0/24"


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "lab tests need root (network namespaces, mounts, systemd-nspawn)"
    for tool, package in (("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap")):
        if shutil.which(tool) is None:
            return f"{tool} is missing (apt-get install {package})"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is a lab test; skip them all, with the reason, when they cannot run."""
    reason = _skip_reason()
    for item in items:
        if "tests/lab/" in str(item.fspath):
            item.add_marker(pytest.mark.lab)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def _down() -> None:
    manager.down(LAB_NAME)


@pytest.fixture(scope="session")
def lab() -> Iterator[LabState]:
    """A 3-host lab (one master+etcd, two nodes), up and answering SSH."""
    atexit.register(_down)
    try:
        _down()  # a previous run killed hard may have left one
        st, _ = manager.up(
            hosts=3, name=LAB_NAME, subnet=LAB_SUBNET, rebuild=False, console=Console()
        )
        yield st
    finally:
        _down()


def _own_lab(name: str, subnet: str, hosts: int) -> Iterator[LabState]:
    """A lab of its own name and subnet, removed at the end (also on failure and exit)."""

    def down() -> None:
        manager.down(name)

    atexit.register(down)
    try:
        down()
        st, _ = manager.up(hosts=hosts, name=name, subnet=subnet, rebuild=False, console=Console())
        yield st
    finally:
        down()


#: Labs of the `kubeform up` tests (tests/lab/test_up*.py), apart from the `lab` fixture's.
UP_LAB = ("kfup3", "192.168.59.0/24")
UP_LAB5 = ("kfup5", "192.168.61.0/24")


@pytest.fixture(scope="module")
def up_lab() -> Iterator[LabState]:
    """A bare 3-host lab (kf-master1 in etcd, kf-node1/2) for `kubeform up` end to end."""
    yield from _own_lab(*UP_LAB, hosts=3)


@pytest.fixture(scope="module")
def up_lab5() -> Iterator[LabState]:
    """A bare 5-host lab (kf-master1..3 in etcd, kf-node1/2) for a 3-member etcd."""
    yield from _own_lab(*UP_LAB5, hosts=5)
