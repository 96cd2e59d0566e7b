"""The agent's event recorder: events queued and written in one transaction per batch,
repeats counted, a failed write logged and its lease asked again."""

from __future__ import annotations

import base64
import json
from typing import Any

from kubeform.agent.runtime import eventrecorder
from kubeform.api.etcd import EtcdError


class _Client:
    def __init__(self, fail: bool = False) -> None:
        self.txns: list[list[dict[str, Any]]] = []
        self.grants = 0
        self.fail = fail

    def lease_grant(self, ttl: int) -> int:
        self.grants += 1
        return 7

    def txn(self, compare: list[Any], success: list[dict[str, Any]], failure: Any = None) -> tuple[bool, list[Any]]:
        if self.fail:
            raise EtcdError("etcd unreachable")
        self.txns.append(success)
        return True, []


POD = {"metadata": {"name": "web", "namespace": "default", "uid": "u1"}}


def test_events_are_queued_and_written_in_one_transaction() -> None:
    client = _Client()
    rec = eventrecorder.EventRecorder(client, "n1", lambda: 1000.0)  # type: ignore[arg-type]
    rec.writer = object()  # type: ignore[assignment]  # no writer thread: flush by hand
    for reason in ("Pulled", "Created", "Started"):
        rec.record(POD, reason, reason + " container c")
    rec.record(POD, "Started", "Started container c")  # the same again: its count goes up
    rec.flush()
    assert len(client.txns) == 1 and client.grants == 1
    puts = client.txns[0]
    events = [json.loads(base64.b64decode(op["request_put"]["value"])) for op in puts]
    assert [e["reason"] for e in events] == ["Pulled", "Created", "Started"]
    assert events[-1]["count"] == 2
    assert all(str(op["request_put"]["lease"]) == "7" for op in puts)
    rec.flush()
    assert len(client.txns) == 1  # nothing queued: nothing written


def test_a_failed_event_write_is_logged_and_the_lease_is_asked_again() -> None:
    client = _Client(fail=True)
    rec = eventrecorder.EventRecorder(client, "n1", lambda: 1000.0)  # type: ignore[arg-type]
    rec.writer = object()  # type: ignore[assignment]  # no writer thread: flush by hand
    rec.record(POD, "Pulled", "x")
    rec.flush()
    assert rec.lease == 0 and rec.pending == []
