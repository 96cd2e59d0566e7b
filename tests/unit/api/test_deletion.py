"""kubeform.api.deletion: how the apiserver deletes an object, shared by CLI and reconciler."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeform.api import deletion

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def _cm(**meta: Any) -> dict[str, Any]:
    return {"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "d", **meta}}


@pytest.mark.parametrize(
    ("obj", "propagation", "remove", "finalizers"),
    [
        (_cm(), "background", True, None),
        (_cm(), "foreground", False, ["foregroundDeletion"]),
        (_cm(), "orphan", False, ["orphan"]),
        (_cm(finalizers=["x/y"]), "background", False, ["x/y"]),
        (_cm(finalizers=["x/y", "orphan"]), "foreground", False, ["x/y", "foregroundDeletion"]),
    ],
)
def test_delete_object(obj: dict[str, Any], propagation: str, remove: bool, finalizers: list[str] | None) -> None:
    got = deletion.delete_object(obj, NOW, propagation)
    assert got.remove == remove
    if not remove:
        assert got.obj is not None
        assert got.obj["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:00Z"
        assert got.obj["metadata"].get("finalizers") == finalizers
        assert "deletionTimestamp" not in obj["metadata"]  # the input is not changed


def test_already_being_deleted_that_way_writes_nothing() -> None:
    obj = _cm(deletionTimestamp="2026-01-01T11:00:00Z", finalizers=["foregroundDeletion"])
    assert deletion.delete_object(obj, NOW, "foreground") == deletion.Deletion(False, None)


def test_pods_go_gracefully_whatever_the_propagation() -> None:
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 5},
           "status": {"phase": "Running"}}
    got = deletion.delete_object(pod, NOW, "foreground")
    assert got.obj is not None and got.obj["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:05Z"
    assert "finalizers" not in got.obj["metadata"]
    assert deletion.delete_object(pod, NOW, grace=0).remove


def test_namespace_becomes_terminating() -> None:
    got = deletion.delete_object({"kind": "Namespace", "metadata": {"name": "t"}}, NOW)
    assert got.obj is not None
    assert got.obj["status"]["phase"] == "Terminating" and got.obj["spec"]["finalizers"] == ["kubernetes"]


def test_without_finalizer() -> None:
    obj = _cm(deletionTimestamp="x", finalizers=["a", "orphan"])
    after = deletion.without_finalizer(obj, "orphan")
    assert after.obj is not None and after.obj["metadata"]["finalizers"] == ["a"]
    assert deletion.without_finalizer(_cm(deletionTimestamp="x", finalizers=["orphan"]), "orphan").remove
    running = {"kind": "Pod", "metadata": {"deletionTimestamp": "x", "finalizers": ["orphan"]},
               "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    kept = deletion.without_finalizer(running, "orphan")  # its agent removes the key
    assert not kept.remove and kept.obj is not None and "finalizers" not in kept.obj["metadata"]
