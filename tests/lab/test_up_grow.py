"""`kubeform up` grows a running etcd cluster from 1 to 3 members, one member at a time.

The lab (``kfgrow``, 192.168.63.0/24, its own, always removed) has five hosts. The first
`up` gets an inventory whose etcd group is only kf-master1; the second the lab's own
inventory, with kf-master1..3 in etcd: kf-master2 and kf-master3 are added with
`etcdctl member add` and start with --initial-cluster-state=existing, while kf-master1's
etcd keeps running untouched (same unit file, same process). A third `up` changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from kubeform.lab.state import LabState
from tests.lab.conftest import _own_lab
from tests.lab.remote import ssh
from tests.lab.test_up import etcdctl, kf, nodes

pytestmark = pytest.mark.lab

GROW_LAB = ("kfgrow", "192.168.63.0/24")
MASTERS = ["kf-master1", "kf-master2", "kf-master3"]
#: What must not change on the founding member while the cluster grows.
FOUNDER_STATE = (
    "md5sum /etc/systemd/system/kubeform-etcd.service /etc/kubeform/etcd-bootstrap.env; "
    "systemctl show -p MainPID --value kubeform-etcd"
)


@dataclass
class Grown:
    """The lab after the 1-member `up` and the 3-member `up`, with what each said."""

    lab: LabState
    workdir: Path
    three: Path
    first_members: str
    founder_before: str
    second_stdout: str

    @property
    def cluster_dir(self) -> Path:
        return self.workdir / ".kubeform" / self.lab.name


@pytest.fixture(scope="module")
def grow_lab() -> Iterator[LabState]:
    yield from _own_lab(*GROW_LAB, hosts=5)


def _inventory(st: LabState, workdir: Path, sub: str, etcd: list[str]) -> Path:
    """The lab's inventory with another etcd group; the file stem names the cluster."""
    data = yaml.safe_load((Path(st.directory) / "inventory.yml").read_text())
    data["all"]["children"]["etcd"] = {"hosts": dict.fromkeys(etcd)}
    path = workdir / sub / f"{st.name}.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def grown(grow_lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> Grown:
    workdir = tmp_path_factory.mktemp("grow")
    one = _inventory(grow_lab, workdir, "one", ["kf-master1"])
    three = _inventory(grow_lab, workdir, "three", MASTERS)
    kf("up", str(one), "-y", cwd=workdir)
    first_members = ssh(grow_lab, "kf-master1", etcdctl("member list"))
    founder_before = ssh(grow_lab, "kf-master1", FOUNDER_STATE)
    second = kf("up", str(three), "-y", cwd=workdir)
    return Grown(grow_lab, workdir, three, first_members, founder_before, second.stdout)


def test_first_up_makes_one_member(grown: Grown) -> None:
    lines = grown.first_members.strip().splitlines()
    assert len(lines) == 1 and ", started, kf-master1, " in lines[0]


def test_second_up_says_members_are_added_and_adds_them(grown: Grown) -> None:
    assert "kf-master2, kf-master3 will be added to the running cluster (kf-master1)" in grown.second_stdout
    assert "adding member kf-master2 (1 of 2)" in grown.second_stdout
    assert "adding member kf-master3 (2 of 2)" in grown.second_stdout
    members = ssh(grown.lab, "kf-master1", etcdctl("member list")).strip().splitlines()
    assert len(members) == 3
    assert all(", started, " in m for m in members), members
    assert sorted(m.split(", ")[2] for m in members) == MASTERS
    cluster_yml = yaml.safe_load((grown.cluster_dir / "cluster.yml").read_text())
    assert cluster_yml["etcd_members"] == MASTERS
    assert len(cluster_yml["endpoints"]) == 3


def test_every_member_is_healthy(grown: Grown) -> None:
    for host in MASTERS:
        out = ssh(grown.lab, host, etcdctl("endpoint health"))
        assert "is healthy" in out and "unhealthy" not in out, (host, out)
    health = ssh(grown.lab, "kf-master3", etcdctl("endpoint health --cluster"))
    assert health.count("is healthy") == 3, health


def test_joined_members_started_as_existing(grown: Grown) -> None:
    env = ssh(grown.lab, "kf-master3", "cat /etc/kubeform/etcd-bootstrap.env")
    assert "ETCD_INITIAL_CLUSTER_STATE=existing" in env
    assert "kf-master1=https://" in env and "kf-master2=https://" in env and "kf-master3=https://" in env


def test_the_founding_member_was_not_restarted(grown: Grown) -> None:
    assert ssh(grown.lab, "kf-master1", FOUNDER_STATE) == grown.founder_before


def test_get_nodes_works(grown: Grown) -> None:
    # The agents restarted with the new endpoint list; give their leases a moment.
    deadline = time.monotonic() + 30
    table = nodes(grown.cluster_dir, grown.workdir)
    while {r["status"] for r in table.values()} != {"Ready"} and time.monotonic() < deadline:
        time.sleep(1)
        table = nodes(grown.cluster_dir, grown.workdir)
    assert len(table) == 5 and {r["status"] for r in table.values()} == {"Ready"}, table


def test_third_up_changes_nothing(grown: Grown) -> None:
    again = kf("up", str(grown.three), "-y", cwd=grown.workdir)
    assert "nothing to change" in again.stdout, again.stdout
    assert "will be added" not in again.stdout
