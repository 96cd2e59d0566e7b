"""Teardown decisions and state round-trips (tests/data/lab/teardown.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.lab import state
from kubeform.lab.plan import make_plan, veth_name

DATA = Path(__file__).parent.parent.parent / "data" / "lab"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "teardown.yml").read_text())


def _veth(name: str) -> str:
    """Data files write a veth as KV_<lab>/<host> (its real name is a hash)."""
    if name.startswith("KV_"):
        lab, host = name[3:].split("/")
        return veth_name(lab, host)
    return name


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_teardown(case: dict[str, Any]) -> None:
    lab = case["lab"]
    lab_dir = f"/var/lib/kubeform/lab/{lab}"
    st = None
    if case["state"]:
        st = state.state_from_plan(make_plan(hosts=case["state"]["hosts"], name=lab), "/base")
    actions = state.teardown_actions(
        lab,
        lab_dir,
        st,
        procs=[state.Proc(p[0], p[1], tuple(p[2])) for p in case["procs"]],
        mounts=case["mounts"],
        netns=case["netns"],
        links=[_veth(n) for n in case["links"]],
    )
    want = [state.Action(kind, _veth(target)) for kind, target in case["actions"]]
    assert actions == want


def test_state_round_trip() -> None:
    st = state.state_from_plan(make_plan(hosts=5, name="x"), "/base")
    st.hosts[0].supervisor_pid = 42
    st.partitioned.append("kf-node1")
    assert state.loads(state.dumps(st), "s.json") == st


@pytest.mark.parametrize("text", ["", "{}", '{"hosts": [{"name": 1}]}', "[]"])
def test_damaged_state_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError) as info:
        state.loads(text, "/x/state.json")
    assert info.value.file == "/x/state.json"
    assert "lab down" in str(info.value)
