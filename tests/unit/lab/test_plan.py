"""The lab's address/role plan, from data cases (tests/data/lab/plans.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.lab.plan import make_plan, master_count, netns_name, veth_name

DATA = Path(__file__).parent.parent.parent / "data" / "lab"
PLANS: list[dict[str, Any]] = yaml.safe_load((DATA / "plans.yml").read_text())
ERRORS: list[dict[str, Any]] = yaml.safe_load((DATA / "plan_errors.yml").read_text())


@pytest.mark.parametrize("case", PLANS, ids=[str(c["args"]) for c in PLANS])
def test_plan(case: dict[str, Any]) -> None:
    plan = make_plan(**case["args"])
    assert [[h.name, h.address, list(h.groups)] for h in plan.hosts] == case["hosts"]
    assert plan.gateway == case["gateway"]
    assert plan.bridge == case["bridge"]


@pytest.mark.parametrize("case", ERRORS, ids=[str(c["args"]) for c in ERRORS])
def test_plan_errors(case: dict[str, Any]) -> None:
    with pytest.raises(UserError) as info:
        make_plan(**case["args"])
    assert info.value.field == case["field"]
    assert case["message"] in str(info.value)


@pytest.mark.parametrize("total", range(1, 41))
def test_etcd_members_odd_and_nodes_stable(total: int) -> None:
    plan = make_plan(hosts=total)
    etcd = [h for h in plan.hosts if "etcd" in h.groups]
    assert len(etcd) == master_count(total) and len(etcd) % 2 == 1
    assert len({h.address for h in plan.hosts}) == total
    node1 = [h.address for h in plan.hosts if h.name == "kf-node1"]
    assert node1 in ([], ["192.168.56.21"])


def test_interface_names_fit_the_kernel_limit() -> None:
    assert len(veth_name("abcdefghijkl", "kf-node40")) <= 15
    assert len(make_plan(name="abcdefghijkl").bridge) <= 15
    assert veth_name("a", "kf-node1") != veth_name("b", "kf-node1")
    assert netns_name("kftest", "kf-node1") == "kf-kftest-kf-node1"


def test_unknown_host_names_the_known_ones() -> None:
    with pytest.raises(UserError, match="kf-master1, kf-node1, kf-node2"):
        make_plan().host("kf-node9")
