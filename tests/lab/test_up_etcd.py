"""`kubeform up` on a 5-host lab: a 3-member etcd that survives the loss of one member.

The lab (``kfup5``, 192.168.61.0/24, tests/lab/conftest.py) has kf-master1..3 in the etcd
group and two nodes. With one member's etcd stopped, and then with a master powered off,
etcd keeps its quorum and `kubeform get nodes` keeps answering: the CLI's etcd client
moves on to the next endpoint of cluster.yml.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeform.lab.state import LabState
from tests.lab.remote import ssh
from tests.lab.test_up import etcdctl, kf, nodes

pytestmark = pytest.mark.lab

MASTERS = ["kf-master1", "kf-master2", "kf-master3"]


@pytest.fixture(scope="module")
def cluster5(up_lab5: LabState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabState, Path]]:
    workdir = tmp_path_factory.mktemp("up5")
    kf("up", str(Path(up_lab5.directory) / "inventory.yml"), "-y", cwd=workdir)
    yield up_lab5, workdir


def _cluster_dir(st: LabState, workdir: Path) -> Path:
    return workdir / ".kubeform" / st.name


def test_three_started_etcd_members(cluster5: tuple[LabState, Path]) -> None:
    st, workdir = cluster5
    members = ssh(st, "kf-master1", etcdctl("member list")).strip().splitlines()
    assert len(members) == 3
    assert all(", started, " in m for m in members)
    assert sorted(m.split(", ")[2] for m in members) == MASTERS
    health = ssh(st, "kf-master2", etcdctl("endpoint health --cluster"))
    assert health.count("is healthy") == 3
    table = nodes(_cluster_dir(st, workdir), workdir)
    assert len(table) == 5 and {r["status"] for r in table.values()} == {"Ready"}


def test_one_member_stopped_etcd_and_get_nodes_keep_working(cluster5: tuple[LabState, Path]) -> None:
    st, workdir = cluster5
    # kf-master1 is the first endpoint in cluster.yml: the CLI must fail over.
    ssh(st, "kf-master1", "systemctl stop kubeform-etcd")
    try:
        for host in ("kf-master2", "kf-master3"):
            out = ssh(st, host, etcdctl("endpoint health"))
            assert "is healthy" in out
        ssh(st, "kf-master2", etcdctl("put /kubeform-test/quorum yes"))
        assert len(nodes(_cluster_dir(st, workdir), workdir)) == 5
    finally:
        ssh(st, "kf-master1", "systemctl start kubeform-etcd")


def test_a_powered_off_master_leaves_etcd_healthy(cluster5: tuple[LabState, Path]) -> None:
    st, workdir = cluster5
    kf("lab", "stop", "--name", st.name, "kf-master3", cwd=workdir)
    try:
        out = ssh(st, "kf-master1", etcdctl("endpoint health"))
        assert "is healthy" in out
        ssh(st, "kf-master1", etcdctl("get /kubeform-test/quorum"))
        assert len(nodes(_cluster_dir(st, workdir), workdir)) == 5
    finally:
        kf("lab", "start", "--name", st.name, "kf-master3", cwd=workdir)
