"""One lab per test run, of its own name and subnet, always removed at the end.

The lab is ``kftest`` on 192.168.57.0/24, so it can never collide with a lab someone
started by hand (``kubeform`` on 192.168.56.0/24). It is torn down in a finally block
and by atexit, so a failing or interrupted run leaves no machine, namespace or mount.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
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


#: The lab every pod test shares (override with KF_PODS_LAB=name:cidr while developing).
PODS_LAB = ("kfpods", "192.168.65.0/24")
#: The host that runs docker instead of crun in the pods lab.
DOCKER_HOST = "kf-node2"


@dataclass
class PodsCluster:
    """A lab after `kubeform up`, with busybox in the cluster registry: where pods run."""

    lab: LabState
    workdir: Path
    inventory: Path

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / ".kubeform" / self.lab.name

    def kf(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """The kubeform CLI as a user runs it, against this cluster (stdin closed)."""
        argv = [sys.executable, "-m", "kubeform", *args]
        if args and args[0] not in ("up", "down", "lab"):
            # before a `--` (exec's command), not inside it
            at = argv.index("--") if "--" in argv else len(argv)
            argv[at:at] = ["--cluster", str(self.cluster_dir)]
        proc = subprocess.run(
            argv, cwd=self.workdir, capture_output=True, text=True,
            stdin=subprocess.DEVNULL, timeout=timeout, check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubeform {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def ssh(self, host: str, command: str, *, check: bool = True) -> str:
        from tests.lab.remote import ssh

        return ssh(self.lab, host, command, check=check)


def _pods_lab() -> tuple[str, str]:
    override = os.environ.get("KF_PODS_LAB", "")
    if override:
        name, _, subnet = override.partition(":")
        return name, subnet or PODS_LAB[1]
    return PODS_LAB


def _pods_inventory(st: LabState, workdir: Path) -> Path:
    """The lab's inventory with DOCKER_HOST on docker (the others keep crun)."""
    data = yaml.safe_load(Path(st.directory, "inventory.yml").read_text())
    hosts = data["all"]["hosts"]
    hosts[DOCKER_HOST] = dict(hosts.get(DOCKER_HOST) or {}, container_runtime="docker")
    path = workdir / "inventory.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def pods_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodsCluster]:
    """The shared pods lab: 3 hosts, `kubeform up` done, busybox pushed into the registry."""
    name, subnet = _pods_lab()

    def down() -> None:
        manager.down(name)

    atexit.register(down)
    try:
        down()
        st, _ = manager.up(hosts=3, name=name, subnet=subnet, rebuild=False, console=Console())
        workdir = tmp_path_factory.mktemp("pods")
        cluster = PodsCluster(st, workdir, _pods_inventory(st, workdir))
        cluster.kf("up", str(cluster.inventory), "-y", "--cluster", str(cluster.cluster_dir))
        if cluster.kf("image", "--help", check=False).returncode == 0:
            archive = workdir / "busybox.tar"
            cluster.kf("image", "make", "busybox", "-o", str(archive))
            for ref in ("busybox:latest", "busybox:1.36"):
                cluster.kf("image", "push", str(archive), "--name", ref)
        yield cluster
    finally:
        down()
