"""Leader election: the pure decision table, and the elector against a fake etcd."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.reconciler import leader
from kubeform.reconciler.leader import LEADER_KEY, Elector, Seen, decide
from kubeform.reconciler.machinery.writer import Guard

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "reconciler" / "leader" / "decide.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_decide(case: dict[str, Any]) -> None:
    seen = None if case["seen"] is None else Seen(case["seen"]["lease"], case["seen"]["holder"])
    got = decide(case["leading"], case["my_lease"], seen, case.get("last_renewed", 0.0), case.get("now", 0.0), 10, 2)
    assert got == case["expect"]


class KV:
    def __init__(self, key: str, value: str, lease: int) -> None:
        self.key, self.value, self.lease, self.mod_revision = key, value, lease, 1


class FakeEtcd:
    """Just enough etcd for the elector: one key, leases that live until revoked."""

    def __init__(self) -> None:
        self.key: KV | None = None
        self.leases: set[int] = set()
        self.next = 100

    def range(self, key: str, prefix: bool = False) -> tuple[list[KV], int]:
        return ([self.key] if self.key else []), 5

    def lease_grant(self, ttl: int) -> int:
        self.next += 1
        self.leases.add(self.next)
        return self.next

    def lease_revoke(self, lease: int) -> None:
        self.leases.discard(lease)
        if self.key and self.key.lease == lease:
            self.key = None

    def lease_keepalive(self, lease: int) -> int:
        return 10 if lease in self.leases else 0

    def txn(self, compare: list[Any], success: list[Any]) -> tuple[bool, list[Any]]:
        if self.key is not None:
            return False, []
        import base64

        put = success[0]["request_put"]
        self.key = KV(LEADER_KEY, base64.b64decode(put["value"]).decode(), int(put["lease"]))
        return True, []


def test_elector_campaigns_leads_and_loses() -> None:
    etcd = FakeEtcd()
    clock = [0.0]
    events: list[str] = []
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    a = Elector(etcd, "m1_aa", clock=lambda: clock[0], now=lambda: now)
    b = Elector(etcd, "m2_bb", clock=lambda: clock[0], now=lambda: now)
    assert a.step(lambda: events.append("a+"), lambda: events.append("a-")) == leader.LEAD
    assert b.step(lambda: events.append("b+"), lambda: events.append("b-")) == leader.FOLLOW
    assert a.guard() == Guard(LEADER_KEY, a.lease_id)
    assert b.guard() is None
    stored = json.loads(etcd.key.value) if etcd.key else {}
    assert stored["kind"] == "Lease" and stored["spec"]["holderIdentity"] == "m1_aa"
    assert stored["spec"]["leaseDurationSeconds"] == 10
    # a's lease lapses (etcd expired it): its keepalive says 0, it steps down, b takes over
    etcd.leases.discard(a.lease_id)
    etcd.key = None
    clock[0] = 3.0
    assert a.step(lambda: events.append("a+"), lambda: events.append("a-")) == leader.LOST
    assert a.guard() is None
    assert b.step(lambda: events.append("b+"), lambda: events.append("b-")) == leader.LEAD
    assert events == ["a+", "a-", "b+"]


def test_guard_turns_none_when_renewals_are_too_old() -> None:
    etcd = FakeEtcd()
    clock = [0.0]
    a = Elector(etcd, "m1_aa", clock=lambda: clock[0])
    a.step(lambda: None, lambda: None)
    assert a.guard() is not None
    clock[0] = 8.5  # no renewal for longer than TTL - margin: stop writing before etcd says so
    assert a.guard() is None


def test_release_revokes_the_lease() -> None:
    etcd = FakeEtcd()
    a = Elector(etcd, "m1_aa")
    a.step(lambda: None, lambda: None)
    stopped: list[bool] = []
    a.release(lambda: stopped.append(True))
    assert etcd.key is None and stopped == [True] and a.guard() is None
