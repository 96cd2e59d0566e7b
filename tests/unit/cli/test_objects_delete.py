"""`kubeform delete` writes one deletion per named object, as the apiserver would, and
leaves dependents to the reconciler's garbage collector (kubectl's output lines kept).
Also: apply refuses new objects in a Terminating namespace."""

from __future__ import annotations

import copy
import datetime
import json
from typing import Any

import pytest

from kubeform.api import kinds
from kubeform.cli import objects
from kubeform.cli.main import main
from kubeform.store import applier
from kubeform.store.client import Op, TxnResult
from kubeform.store.manifests import Doc

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.UTC)


class FakeStore:
    """Objects by etcd key with revisions; records each write."""

    def __init__(self, objs: list[dict[str, Any]]) -> None:
        self.data: dict[str, tuple[dict[str, Any], int]] = {}
        self.rev = 10
        for o in objs:
            self.rev += 1
            kind = kinds.BY_KIND[o["kind"]]
            m = o["metadata"]
            self.data[kind.key(m.get("namespace"), m["name"])] = (o, self.rev)
        self.txns: list[list[Op]] = []

    def get_raw(self, key: str) -> tuple[dict[str, Any] | None, int]:
        o, rev = self.data.get(key, (None, 0))
        if o is None:
            return None, 0
        o = copy.deepcopy(o)
        o["metadata"]["resourceVersion"] = str(rev)
        return o, rev

    def get(self, kind: kinds.Kind, ns: str | None, name: str) -> dict[str, Any] | None:
        return self.get_raw(kind.key(ns, name))[0]

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return {k: o for k in keys if (o := self.get_raw(k)[0]) is not None}

    def list(self, kind: kinds.Kind, ns: str | None = None) -> list[dict[str, Any]]:
        return []

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.data if k.startswith(prefix))

    def write(self, ops: list[Op]) -> TxnResult:
        self.txns.append(list(ops))
        self.rev += 1
        for op in ops:
            if op.key in self.data:
                assert op.expect is None or self.data[op.key][1] == op.expect
            if op.value is None:
                self.data.pop(op.key, None)
            else:
                self.data[op.key] = (json.loads(op.value), self.rev)
        return TxnResult(True, self.rev)


def _obj(kind: str, name: str, ns: str | None = "default", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"u-{name}"}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": kinds.BY_KIND[kind].api_version, "kind": kind, "metadata": meta, **extra}


DEPLOY = _obj("Deployment", "web", spec={"replicas": 1})
RS = _obj("ReplicaSet", "web-1")
RS["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "web", "uid": "u-web", "controller": True}]


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> FakeStore:
    s = FakeStore([DEPLOY, RS, _obj("Namespace", "team", None, spec={"finalizers": ["kubernetes"]}, status={"phase": "Active"}),
                   _obj("Namespace", "default", None), _obj("Node", "n1", None)])
    monkeypatch.setattr(objects, "_connect", lambda args: (None, s))
    monkeypatch.setattr(objects, "_now", lambda: NOW)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    return s


def test_background_deletes_only_the_owner(store: FakeStore, capsys: pytest.CaptureFixture[str]) -> None:
    """The dependents are the collector's: one transaction, the Deployment's key only."""
    assert main(["delete", "deploy", "web"]) == 0
    assert capsys.readouterr().out == "deployment.apps/web deleted\n"
    assert store.txns == [[Op("/registry/deployments/default/web", None, 11)]]
    assert "/registry/replicasets/default/web-1" in store.data


@pytest.mark.parametrize(("cascade", "finalizer"), [("foreground", "foregroundDeletion"), ("orphan", "orphan")])
def test_foreground_and_orphan_mark_the_owner_and_wait(
    cascade: str, finalizer: str, store: FakeStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marked: list[dict[str, Any]] = []

    def collector(seconds: float) -> None:  # the reconciler's GC, while delete waits
        marked.append(store.data["/registry/deployments/default/web"][0])
        store.data.pop("/registry/deployments/default/web")

    monkeypatch.setattr("time.sleep", collector)
    assert main(["delete", "deployment/web", f"--cascade={cascade}"]) == 0
    assert capsys.readouterr().out == "deployment.apps/web deleted\n"
    [meta] = [m["metadata"] for m in marked]
    assert meta["deletionTimestamp"] == "2026-12-01T12:00:00Z" and meta["finalizers"] == [finalizer]
    assert "/registry/replicasets/default/web-1" in store.data  # the GC's to delete or release


def test_bad_cascade_is_one_line(store: FakeStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", "deploy", "web", "--cascade=sideways"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid --cascade 'sideways'" in err
    assert store.txns == []


def test_namespace_is_marked_terminating(store: FakeStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", "ns", "team", "--wait=false"]) == 0
    assert capsys.readouterr().out == "namespace/team deleted\n"
    ns = store.data["/registry/namespaces/team"][0]
    assert ns["status"]["phase"] == "Terminating" and ns["spec"]["finalizers"] == ["kubernetes"]
    assert ns["metadata"]["deletionTimestamp"] == "2026-12-01T12:00:00Z"


def test_protected_namespace_is_refused(store: FakeStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["delete", "ns", "default"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == (
        'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted'
    )
    assert store.txns == []


def test_delete_node(store: FakeStore, capsys: pytest.CaptureFixture[str]) -> None:
    """A Node can be deleted (its pods are then removed by pod GC); its agent re-registers it if alive."""
    assert main(["delete", "node", "n1"]) == 0
    assert capsys.readouterr().out == "node/n1 deleted\n"
    assert "/registry/minions/n1" not in store.data


def test_wait_timeout_names_the_reconciler(store: FakeStore, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    clock = iter(range(1000))
    monkeypatch.setattr("time.monotonic", lambda: float(next(clock)))
    assert main(["delete", "ns", "team", "--timeout=5s"]) == 1
    err = capsys.readouterr().err
    assert "timed out waiting for namespace/team" in err and "kubeform-reconciler" in err


def test_apply_refuses_new_objects_in_a_terminating_namespace() -> None:
    ns = _obj("Namespace", "team", None, status={"phase": "Terminating"})
    ns["metadata"]["deletionTimestamp"] = "2026-12-01T11:00:00Z"
    existing = _obj("ConfigMap", "old", "team")
    store = FakeStore([ns, existing])
    docs = [Doc("a.yaml", 1, _obj("ConfigMap", "new", "team")), Doc("a.yaml", 2, _obj("ConfigMap", "old", "team")),
            Doc("a.yaml", 3, _obj("ConfigMap", "fine", "default"))]
    items, _ = applier.validate_docs(docs)
    with pytest.raises(applier.MultiError) as err:
        applier.plan_all(store, items)  # type: ignore[arg-type]
    [one] = err.value.errors
    assert one.document == 1 and one.field == "metadata.namespace"
    assert 'configmaps "new" is forbidden: unable to create new content in namespace team because it is being terminated' in str(one)
    assert store.txns == []


def test_apply_never_clears_a_deletion() -> None:
    """Re-applying an object being deleted keeps deletionTimestamp (server-owned); a
    manifest that names ``finalizers: []`` removes them (the collector then removes it)."""
    from kubeform.store import plan

    live = _obj("ConfigMap", "held", "team", data={"a": "1"})
    live["metadata"].update(deletionTimestamp="2026-12-01T11:00:00Z", deletionGracePeriodSeconds=0,
                            finalizers=["kubeform.test/hold"], resourceVersion="5")
    stored, _ = plan.plan_object(_obj("ConfigMap", "held", "team", data={"a": "2"}), live, now="x", new_uid=lambda: "u")
    assert stored["metadata"]["deletionTimestamp"] == "2026-12-01T11:00:00Z"
    assert stored["metadata"]["finalizers"] == ["kubeform.test/hold"]
    released = _obj("ConfigMap", "held", "team")
    released["metadata"]["finalizers"] = []
    stored, _ = plan.plan_object(released, live, now="x", new_uid=lambda: "u")
    assert stored["metadata"]["finalizers"] == [] and stored["metadata"]["deletionTimestamp"]
