"""The daemon's wiring of a term: changes to queue keys, outcomes to requeues."""

from __future__ import annotations

import datetime
from typing import Any

from kubeform.api.etcd import EtcdError
from kubeform.reconciler import daemon
from kubeform.reconciler.controllers.base import Controller
from kubeform.reconciler.machinery.actions import (
    Create,
    CreateEvent,
    Delete,
    Put,
    Requeue,
    requeue_after,
    writes,
)
from kubeform.reconciler.machinery.cache import Cache, Change, Item
from kubeform.reconciler.machinery.writer import CONFLICT, DONE


def _sync(key: str, view: Cache, now: datetime.datetime) -> list[Any]:
    item = view.get(key)
    return [Put(key, {"x": 1}, item.mod_revision)] if item else []


def _related(change: Change, view: Cache) -> list[str]:
    return [change.key] if change.key.startswith("/registry/pods/") else ["/registry/pods/default/all"]


CTRL = Controller("demo", "/registry/pods/", ("/registry/minions/",), _sync, _related)


class FakeWriter:
    def __init__(self, outcome: str | Exception) -> None:
        self.outcome = outcome
        self.seen: list[Any] = []

    def perform(self, actions: list[Any]) -> str:
        self.seen.append(actions)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


def _term() -> daemon.Term:
    return daemon.Term(client=None, controllers=[CTRL], guard=lambda: None)


def test_changes_under_watched_prefixes_queue_keys() -> None:
    term = _term()
    term.dispatch(Change("/registry/pods/default/a", None, Item("/registry/pods/default/a", {}, 3)))
    term.dispatch(Change("/registry/minions/n1", None, Item("/registry/minions/n1", {}, 4)))
    term.dispatch(Change("/registry/secrets/default/s", None, Item("/registry/secrets/default/s", {}, 5)))
    assert term.queues["demo"].snapshot()["ready"] == ["/registry/pods/default/a", "/registry/pods/default/all"]
    assert [i.prefix for i in term.informers] == ["/registry/pods/", "/registry/minions/"]


def test_outcomes() -> None:
    for outcome, delayed in ((DONE, []), (CONFLICT, ["k"]), (EtcdError("down"), ["k"]), (ValueError("bug"), ["k"])):
        term = _term()
        term.cache.write_through("k", {"metadata": {}}, 9)
        term.writer = FakeWriter(outcome)  # type: ignore[assignment]
        queue = term.queues["demo"]
        queue.add("k")
        assert queue.get_nowait() == "k"
        term.sync_one(CTRL, queue, "k")
        queue.done("k")
        assert queue.snapshot()["delayed"] == delayed, outcome
        assert queue.failures("k") == (0 if outcome == DONE else 1)
    term.halt()
    assert term.stop.is_set() and term.queues["demo"].shutting_down


def test_every_action_is_described_for_the_log() -> None:
    from kubeform.reconciler.daemon import _describe
    from kubeform.reconciler.machinery.actions import Create, CreateEvent, Delete, Put

    assert _describe(Put("/registry/pods/d/a", {}, 1)) == "put /registry/pods/d/a"
    assert _describe(Delete("/registry/pods/d/a", 1)) == "delete /registry/pods/d/a"
    assert _describe(CreateEvent({}, "Scheduled", "m")) == "event Scheduled"
    assert _describe(Create("/registry/pods/", {"metadata": {"namespace": "d", "generateName": "web-"}})) == "create /registry/pods/d/web-*"
    assert _describe(Create("/registry/persistentvolumes/", {"metadata": {"name": "pv1"}})) == "create /registry/persistentvolumes/pv1"


def test_wake_queues_the_key_again_later() -> None:
    ctrl = CTRL._replace(wake=lambda key, view, now: 7.0)
    term = daemon.Term(client=None, controllers=[ctrl], guard=lambda: None)
    term.cache.write_through("k", {"metadata": {}}, 9)
    term.writer = FakeWriter(DONE)  # type: ignore[assignment]
    queue = term.queues["demo"]
    term.sync_one(ctrl, queue, "k")
    assert queue.snapshot()["delayed"] == ["k"]
    term.halt()


def test_failed_creates_are_recorded_once() -> None:
    from kubeform.reconciler.machinery.actions import Create

    recorded: list[str] = []

    def sync(key: str, view: Cache, now: datetime.datetime) -> list[Any]:
        return [Create("/registry/pods/", {"metadata": {"name": "p", "namespace": "default"}})]

    def failed(key: str, view: Cache, now: datetime.datetime, error: str) -> list[Any]:
        recorded.append(error)
        return []

    ctrl = CTRL._replace(sync=sync, failed=failed)
    term = daemon.Term(client=None, controllers=[ctrl], guard=lambda: None)
    term.writer = FakeWriter(EtcdError("too many operations in txn request"))  # type: ignore[assignment]
    queue = term.queues["demo"]
    term.sync_one(ctrl, queue, "k")
    assert recorded == ["too many operations in txn request"]
    assert queue.snapshot()["delayed"] == ["k"]
    term.halt()


def test_requeue_after_a_successful_sync() -> None:
    """A sync that asks for Requeue(after) is queued again that much later, once written."""

    def timed(key: str, view: Cache, now: datetime.datetime) -> list[Any]:
        return [Put(key, {"x": 1}, 9), Requeue(30.0), Requeue(12.5)]

    ctrl = Controller("timed", "/registry/jobs/", (), timed)
    for outcome, delayed in ((DONE, ["k"]), (CONFLICT, ["k"])):
        term = daemon.Term(client=None, controllers=[ctrl], guard=lambda: None)
        fake = FakeWriter(outcome)
        term.writer = fake  # type: ignore[assignment]
        queue = term.queues["timed"]
        queue.add("k")
        assert queue.get_nowait() == "k"
        term.sync_one(ctrl, queue, "k")
        queue.done(key="k")
        assert queue.snapshot()["delayed"] == delayed
        assert fake.seen[0][-2:] == [Requeue(30.0), Requeue(12.5)]
        if outcome == DONE:  # the earliest of the requeues, not a back-off
            assert queue.failures("k") == 0
            (when, _, _), = queue._delayed
            assert 12.0 < when - __import__("time").monotonic() <= 12.5
        term.halt()


def test_requeue_alone_writes_nothing() -> None:
    assert requeue_after([Requeue(5.0), Put("k", {}, 1)]) == 5.0
    assert requeue_after([Put("k", {}, 1)]) is None
    assert requeue_after([Requeue(-3.0)]) == 0.0
    assert writes([Requeue(1.0), Delete("k", 2)]) == [Delete("k", 2)]


def test_a_create_is_logged_without_killing_the_worker() -> None:
    """A Create has no key until the writer names it; logging it must not raise."""

    def creates(key: str, view: Cache, now: datetime.datetime) -> list[Any]:
        return [Create("/registry/pods/", {"metadata": {"generateName": "web-", "namespace": "t"}}), CreateEvent({}, "R", "m")]

    ctrl = Controller("creates", "/registry/jobs/", (), creates)
    term = daemon.Term(client=None, controllers=[ctrl], guard=lambda: None)
    term.writer = FakeWriter(DONE)  # type: ignore[assignment]
    queue = term.queues["creates"]
    queue.add("k")
    assert queue.get_nowait() == "k"
    term.sync_one(ctrl, queue, "k")
    queue.done("k")
    assert daemon._describe(Create("/registry/pods/", {"metadata": {"generateName": "web-", "namespace": "t"}})) == "create /registry/pods/t/web-*"
    term.halt()


def test_every_action_is_described_in_the_log() -> None:
    from kubeform.reconciler.machinery.actions import Create, CreateEvent, Delete

    pod = {"metadata": {"name": "web-x", "namespace": "default"}}
    assert daemon._describe(Create("/registry/pods/", pod)) == "create /registry/pods/default/web-x"
    assert daemon._describe(Create("/registry/pods/", {"metadata": {"generateName": "web-"}})) == "create /registry/pods/web-*"
    assert daemon._describe(Put("/registry/pods/default/web-x", pod, 3)) == "put /registry/pods/default/web-x"
    assert daemon._describe(Delete("/registry/pods/default/web-x", 3)) == "delete /registry/pods/default/web-x"
    assert daemon._describe(CreateEvent(pod, "SuccessfulCreate", "m")) == "event SuccessfulCreate"
