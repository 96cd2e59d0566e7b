"""`kubeform rollout` on DaemonSets and StatefulSets: the kind reaches the right decisions,
status gives up with exit 1 after --timeout, undo writes the revision's template."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeform.api import kinds
from kubeform.cli import rollout
from kubeform.cli.main import main

DS: dict[str, Any] = {
    "kind": "DaemonSet",
    "metadata": {"name": "agent", "namespace": "default", "uid": "d1", "generation": 2},
    "spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": "new"}]}}},
    "status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 1},
}


def _cr(rev: int, image: str) -> dict[str, Any]:
    return {
        "kind": "ControllerRevision",
        "metadata": {"name": f"agent-{rev}", "ownerReferences": [{"kind": "DaemonSet", "name": "agent", "uid": "d1", "controller": True}]},
        "data": {"spec": {"template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c", "image": image}]}, "$patch": "replace"}}},
        "revision": rev,
    }


class Store:
    def __init__(self) -> None:
        self.objs = {"DaemonSet": [DS], "ControllerRevision": [_cr(1, "old"), _cr(2, "new")]}

    def get(self, kind: kinds.Kind, ns: str | None, name: str) -> dict[str, Any] | None:
        found = [o for o in self.objs.get(kind.kind, []) if o["metadata"]["name"] == name]
        return copy.deepcopy(found[0]) if found else None

    def list(self, kind: kinds.Kind, ns: str | None = None) -> list[dict[str, Any]]:
        return copy.deepcopy(self.objs.get(kind.kind, []))


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> Store:
    fake = Store()
    monkeypatch.setattr(rollout, "_connect", lambda args: (None, fake))
    monkeypatch.setattr(rollout, "POLL_SECONDS", 0.01)
    return fake


def test_status_of_a_daemonset_times_out_with_exit_1(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "status", "daemonset/agent", "--timeout", "50ms"]) == 1
    out, err = capsys.readouterr()
    assert out == 'Waiting for daemon set "agent" rollout to finish: 1 of 3 updated pods are available...\n'
    assert "timed out waiting for the condition" in err


def test_status_without_watch_prints_once(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "status", "ds", "agent", "--watch=false"]) == 0
    assert "1 of 3 updated pods are available" in capsys.readouterr().out


def test_history_and_undo_of_a_daemonset(store: Store, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["rollout", "history", "daemonset/agent"]) == 0
    assert capsys.readouterr().out == "daemonset.apps/agent \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n"
    written: list[dict[str, Any]] = []

    def update(st: Any, kind: kinds.Kind, ns: str, name: str, change: Any) -> Any:
        new = change(st.get(kind, ns, name))
        written.append(new)
        return new

    monkeypatch.setattr(rollout, "_update", update)
    assert main(["rollout", "undo", "daemonset/agent"]) == 0
    assert capsys.readouterr().out == "daemonset.apps/agent rolled back\n"
    assert written[0]["spec"]["template"]["spec"]["containers"][0]["image"] == "old"
    assert main(["rollout", "restart", "daemonset/agent"]) == 0
    assert "kubectl.kubernetes.io/restartedAt" in written[1]["spec"]["template"]["metadata"]["annotations"]


def test_pause_is_for_deployments_only(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rollout", "pause", "daemonset/agent"]) == 1
    assert "only deployments" in capsys.readouterr().err
