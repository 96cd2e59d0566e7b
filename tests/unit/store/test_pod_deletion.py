"""Graceful pod deletion: tests/data/store/pod_deletion.yaml, then delete_object and the
`delete` verb against a fake store (what is written, in which transaction)."""

from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import kinds
from kubeform.cli import objects
from kubeform.cli.main import main
from kubeform.store import applier, pod_deletion
from kubeform.store.client import ConflictError, Op, TxnResult

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "store" / "pod_deletion.yaml").read_text()
)
NOW = datetime.datetime.fromisoformat(DATA["now"].replace("Z", "+00:00"))
POD = kinds.BY_KIND["Pod"]


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_pod_deletion(case: dict[str, Any]) -> None:
    flags = case["flags"]
    grace = pod_deletion.requested_grace(
        flags.get("grace_period", -1), force=flags.get("force", False), now_flag=flags.get("now", False)
    )
    before = copy.deepcopy(case["pod"])
    got = pod_deletion.plan_pod_deletion(case["pod"], now=NOW, grace=grace)
    assert case["pod"] == before  # the input is not modified
    expected = case["expected"]
    assert got.remove == expected["remove"]
    if expected["remove"] or expected.get("unchanged"):
        assert got.pod is None
        return
    assert got.pod is not None
    meta = got.pod["metadata"]
    assert meta["deletionTimestamp"] == expected["deletionTimestamp"]
    assert meta["deletionGracePeriodSeconds"] == expected["deletionGracePeriodSeconds"]
    assert {k: v for k, v in got.pod.items() if k != "metadata"} == {k: v for k, v in before.items() if k != "metadata"}


class FakeStore:
    """Objects by key with revisions; records each transaction."""

    def __init__(self, objs: list[dict[str, Any]]) -> None:
        self.data: dict[str, tuple[dict[str, Any], int]] = {}
        self.rev = 10
        for o in objs:
            self.rev += 1
            m = o["metadata"]
            self.data[POD.key(m.get("namespace", "default"), m["name"])] = (o, self.rev)
        self.txns: list[list[Op]] = []
        self.gets = 0

    def get_raw(self, key: str) -> tuple[dict[str, Any] | None, int]:
        self.gets += 1
        o, rev = self.data.get(key, (None, 0))
        if o is None:
            return None, 0
        o = copy.deepcopy(o)
        o["metadata"]["resourceVersion"] = str(rev)
        return o, rev

    def get(self, kind: kinds.Kind, ns: str | None, name: str) -> dict[str, Any] | None:
        return self.get_raw(kind.key(ns, name))[0]

    def list(self, kind: kinds.Kind, ns: str | None = None) -> list[dict[str, Any]]:
        return []

    def write(self, ops: list[Op]) -> TxnResult:
        self.txns.append(list(ops))
        self.rev += 1
        for op in ops:
            assert op.expect is None or self.data[op.key][1] == op.expect
            if op.value is None:
                del self.data[op.key]
            else:
                self.data[op.key] = (json.loads(op.value), self.rev)
        return TxnResult(True, self.rev)


def _pod(name: str, node: str | None = "n1", grace: int | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "a", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": name},
            "spec": spec, "status": {"phase": "Running" if node else "Pending"}}


def test_delete_object_marks_bound_pods_in_one_guarded_transaction() -> None:
    store = FakeStore([_pod("bound", grace=7), _pod("loose", node=None)])
    for name in ("bound", "loose"):
        obj = store.get(POD, "default", name)
        assert obj is not None
        assert applier.delete_object(store, POD, obj, now=NOW) == f"pod/{name}"  # type: ignore[arg-type]
    mark, remove = store.txns
    [op] = mark
    assert op.expect == 11 and op.value is not None  # compare on the read mod_revision
    meta = json.loads(op.value)["metadata"]
    assert meta["deletionTimestamp"] == "2026-12-01T12:00:07Z" and meta["deletionGracePeriodSeconds"] == 7
    assert "resourceVersion" not in meta
    assert remove == [Op("/registry/pods/default/loose", None, 12)]
    assert "/registry/pods/default/bound" in store.data and "/registry/pods/default/loose" not in store.data


class RacingStore(FakeStore):
    """A node's agent writes the pod's status just before each of the first ``races`` deletions."""

    def __init__(self, objs: list[dict[str, Any]], races: int) -> None:
        super().__init__(objs)
        self.races = races

    def write(self, ops: list[Op]) -> TxnResult:
        if self.races > 0:
            self.races -= 1
            self.rev += 1
            for op in ops:
                obj, _ = self.data[op.key]
                obj.setdefault("status", {})["podIP"] = f"10.0.0.{self.rev}"
                self.data[op.key] = (obj, self.rev)
            if any(op.expect is not None and self.data[op.key][1] != op.expect for op in ops):
                raise ConflictError(f"conflict: {ops[0].key} changed since it was read")
        return super().write(ops)


def test_a_status_write_meanwhile_is_no_conflict_to_the_user() -> None:
    """kubectl's delete carries no precondition: the deletion is decided again on the fresh object."""
    store = RacingStore([_pod("bound", grace=7)], races=2)
    obj = store.get(POD, "default", "bound")
    assert obj is not None
    assert applier.delete_object(store, POD, obj, now=NOW) == "pod/bound"  # type: ignore[arg-type]
    [mark] = store.txns
    meta = json.loads(mark[0].value or "{}")
    assert meta["metadata"]["deletionGracePeriodSeconds"] == 7
    assert meta["status"]["podIP"] == "10.0.0.13"  # the agent's write is kept, not overwritten
    endless = RacingStore([_pod("busy")], races=applier.DELETE_ATTEMPTS)
    obj = endless.get(POD, "default", "busy")
    with pytest.raises(ConflictError):
        applier.delete_object(endless, POD, obj, now=NOW)  # type: ignore[arg-type]


def test_delete_verb_waits_for_the_agent_and_force_removes(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    store = FakeStore([_pod("web"), _pod("stuck")])
    monkeypatch.setattr(objects, "_connect", lambda args: (None, store))
    monkeypatch.setattr(objects, "_now", lambda: NOW)
    sleeps: list[float] = []

    def agent_removes(seconds: float) -> None:  # the node's agent, after the grace period
        sleeps.append(seconds)
        store.data.pop("/registry/pods/default/web", None)

    monkeypatch.setattr("time.sleep", agent_removes)
    assert main(["delete", "pod", "web"]) == 0
    assert capsys.readouterr().out == "pod/web deleted\n"
    assert sleeps  # it waited until the key was gone

    assert main(["delete", "pod", "stuck", "--wait=false"]) == 0
    assert store.data["/registry/pods/default/stuck"][0]["metadata"]["deletionGracePeriodSeconds"] == 30
    capsys.readouterr()

    assert main(["delete", "pod", "stuck", "--force", "--grace-period=0"]) == 0
    out, err = capsys.readouterr()
    assert out == "pod/stuck force deleted\n"
    assert err.strip() == pod_deletion.FORCE_WARNING
    assert "/registry/pods/default/stuck" not in store.data


def test_wait_times_out_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    store = FakeStore([_pod("web")])
    monkeypatch.setattr(objects, "_connect", lambda args: (None, store))
    clock = iter(range(0, 1000))
    monkeypatch.setattr("time.monotonic", lambda: float(next(clock)))
    monkeypatch.setattr("time.sleep", lambda s: None)
    assert main(["delete", "pod", "web", "--timeout", "5s"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kubeform: error: timed out waiting for pod/web to be deleted")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("30s", 30), ("2m", 120), ("1m30s", 90), ("1h", 3600), ("500ms", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert objects.parse_duration(text) == seconds
