"""One name, one pod on a node: the decision (tests/data/agent_runtime/samename), the name
records in the pod directories, and the manager holding a new pod back while the old
pod of its name still has containers on the node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import samename
from kubeform.agent.runtime.driver import ContainerInfo, SandboxInfo
from kubeform.agent.runtime.fake import FakeDriver
from kubeform.agent.runtime.manager import RuntimeManager
from tests.unit.agent.runtime.cases import DATA

CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "samename" / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_waiting(case: dict[str, Any]) -> None:
    assert samename.waiting(case["bound"], case["leftovers"]) == case["want"]


@pytest.mark.parametrize(("pod", "want"), [
    ({"metadata": {"name": "kv-0", "namespace": "chaos"}}, "chaos/kv-0"),
    ({"metadata": {"name": "kv-0"}}, "default/kv-0"),
    ({"metadata": {}}, ""),
    ({}, ""),
])
def test_full_name(pod: dict[str, Any], want: str) -> None:
    assert samename.full_name(pod) == want


def test_record_written_read_and_dropped(tmp_path: Path) -> None:
    state = str(tmp_path)
    assert samename.read_record(state, "u1") is None
    samename.write_record(state, "u1", "chaos/kv-0")
    assert samename.read_record(state, "u1") == "chaos/kv-0"
    assert not list((tmp_path / "pods" / "u1").glob("*.tmp"))
    samename.drop_record(state, "u1")
    samename.drop_record(state, "u1")  # gone already is fine
    assert samename.read_record(state, "u1") is None
    assert list((tmp_path / "pods" / "u1").iterdir()) == []  # the pod directory can go (teardown: when empty)


def _pod(uid: str, name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "chaos", "uid": uid}, "spec": {"nodeName": "kf-node2"}}


def _running(uid: str, cid: str, state: str = "running") -> ContainerInfo:
    return ContainerInfo(uid, "kv", 0, cid, state, None, "", "", 42 if state == "running" else 0, "")


def _manager(tmp_path: Path) -> RuntimeManager:
    client: Any = object()  # never called: held_back reads only its arguments and the records
    return RuntimeManager(client, FakeDriver(), "kf-node2", str(tmp_path), str(tmp_path / "logs"), lambda: "10.0.0.1")


def test_manager_holds_the_new_pod_while_the_old_ones_containers_are_here(tmp_path: Path) -> None:
    m = _manager(tmp_path)
    m.pod_names.remember("old", _pod("old", "kv-0"))  # recorded when the old pod was bound here
    m.pod_names.cache.clear()  # as after a restart of the agent: read back from the record
    pods = {"new": ("/registry/pods/chaos/kv-0", 7, _pod("new", "kv-0")),
            "web": ("/registry/pods/chaos/web-1", 8, _pod("web", "web-1"))}
    sandbox = SandboxInfo("old", "sb", "/run/netns/x", "10.244.1.5", True)
    assert m.held_back(pods, {"old": sandbox}, {"old": [_running("old", "c1")]}) == {"new": "old"}
    assert m.held_back(pods, {}, {"old": [_running("old", "c1")]}) == {"new": "old"}
    assert m.held_back(pods, {"old": sandbox}, {}) == {"new": "old"}  # its network is still there
    # only exited containers left (being removed): nothing runs any more, the new pod goes on
    assert m.held_back(pods, {}, {"old": [_running("old", "c1", "exited")]}) == {}
    assert m.held_back(pods, {}, {}) == {}
    m.pod_names.drop("old")
    assert m.held_back(pods, {"old": sandbox}, {"old": [_running("old", "c1")]}) == {}  # no record: unknown


def test_a_pod_bound_here_is_never_held_by_its_own_containers(tmp_path: Path) -> None:
    m = _manager(tmp_path)
    m.pod_names.remember("u1", _pod("u1", "kv-0"))
    pods = {"u1": ("/registry/pods/chaos/kv-0", 7, _pod("u1", "kv-0"))}
    assert m.held_back(pods, {}, {"u1": [_running("u1", "c1")]}) == {}
