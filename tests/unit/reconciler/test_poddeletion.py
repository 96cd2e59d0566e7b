"""How a controller deletes a pod: marked when a node runs it, removed when none does."""

from __future__ import annotations

import datetime

from kubeform.reconciler.machinery.actions import Delete, Put
from kubeform.reconciler.machinery.cache import Item
from kubeform.reconciler.poddeletion import delete_pod

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
KEY = "/registry/pods/t/p"


def _pod(**kw: object) -> dict:
    pod = {"metadata": {"name": "p", "namespace": "t"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    for k, v in kw.items():
        section, field = k.split("__")
        pod[section][field] = v  # type: ignore[index]
    return pod


def test_bound_running_pod_is_marked_with_its_grace() -> None:
    (put,) = delete_pod(Item(KEY, _pod(spec__terminationGracePeriodSeconds=5), 7), NOW)
    assert isinstance(put, Put) and put.expect_mod_revision == 7
    assert put.obj["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:05Z"
    assert put.obj["metadata"]["deletionGracePeriodSeconds"] == 5


def test_default_grace_is_30s() -> None:
    (put,) = delete_pod(Item(KEY, _pod(), 7), NOW)
    assert isinstance(put, Put) and put.obj["metadata"]["deletionTimestamp"] == "2026-01-01T12:00:30Z"


def test_unbound_or_finished_pod_is_removed() -> None:
    assert delete_pod(Item(KEY, _pod(spec__nodeName=""), 7), NOW) == [Delete(KEY, 7)]
    assert delete_pod(Item(KEY, _pod(status__phase="Succeeded"), 8), NOW) == [Delete(KEY, 8)]


def test_pod_already_being_deleted_is_left_alone_unless_edited() -> None:
    pod = _pod(metadata__deletionTimestamp="2026-01-01T11:59:59Z")
    assert delete_pod(Item(KEY, pod, 7), NOW) == []
    edited = dict(pod, metadata=dict(pod["metadata"], finalizers=[]))
    assert delete_pod(Item(KEY, pod, 7), NOW, edited) == [Put(KEY, edited, 7)]
