"""etcd growth decisions: recorded members + the inventory's etcd group -> who joins, how.

Cases are files (tests/data/etcd_growth/*.yml): ``group`` (name: address, inventory
order), ``recorded`` (cluster.yml's etcd_members) and either the expected ``members``,
``joining`` and per-member ``bootstrap`` settings, or the ``error``/``hint`` of a refusal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.bootstrap.cluster_plan import (
    MEMBERS_KEY,
    ClusterPlan,
    etcd_bootstrap,
    etcd_membership,
    recorded_members,
)
from kubeform.errors import UserError
from kubeform.inventory.model import Host

DATA = Path(__file__).resolve().parents[2] / "data" / "etcd_growth"
CASES = sorted(DATA.glob("*.yml"))


def _plan(group: dict[str, str]) -> ClusterPlan:
    hosts = [Host(name, {"ansible_host": addr}) for name, addr in group.items()]
    return ClusterPlan(name="c", etcd=hosts, hosts=hosts, network="10.244.0.0/16", backend="vxlan")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_cases(case: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(case.read_text())
    plan = _plan(data["group"])
    if "error" in data:
        with pytest.raises(UserError) as err:
            etcd_membership(plan, data["recorded"], "cluster.yml")
        assert data["error"] in err.value.message
        assert data["hint"] in (err.value.hint or "")
        assert err.value.field == MEMBERS_KEY
        return
    membership = etcd_membership(plan, data["recorded"], "cluster.yml")
    assert list(membership.members) == data["members"]
    assert list(membership.joining) == data["joining"]
    if "bootstrap" in data:
        assert etcd_bootstrap(plan, membership) == data["bootstrap"]


def test_recorded_members_come_from_cluster_yml() -> None:
    plan = _plan({"m1": "10.0.0.1", "m2": "10.0.0.2"})
    assert recorded_members({MEMBERS_KEY: ["m1"]}, ["https://10.0.0.1:2379", "https://10.0.0.2:2379"], plan.etcd) == ["m1"]
    assert recorded_members({MEMBERS_KEY: []}, ["https://10.0.0.1:2379"], plan.etcd) == []


def test_an_older_cluster_yml_names_its_members_by_endpoint() -> None:
    plan = _plan({"m1": "10.0.0.1", "m2": "10.0.0.2"})
    got = recorded_members({}, ["https://10.0.0.1:2379", "https://10.0.0.9:2379"], plan.etcd)
    assert got == ["m1", "https://10.0.0.9:2379"]
