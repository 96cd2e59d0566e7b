"""The writer: actions -> transaction payloads (case files), and its outcomes.

Case files (tests/data/reconciler/machinery/writer/) hold actions and the transaction
they must become, decoded for reading (keys and values out of base64, values as objects).
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api.etcd import _b64
from kubeform.api.nodes import parse_time
from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put, Requeue
from kubeform.reconciler.machinery.cache import Cache
from kubeform.reconciler.machinery.writer import (
    CONFLICT,
    DONE,
    NOT_LEADER,
    EventLease,
    Guard,
    Writer,
    txn_body,
)

CASES = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "machinery" / "writer"
LEADER = "/registry/leases/kube-system/kubeform-reconciler"
NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def _d(text: str) -> str:
    return base64.b64decode(text).decode()


def readable(body: dict[str, Any]) -> dict[str, Any]:
    """The gateway's transaction with keys and values decoded."""
    compare = []
    for c in body["compare"]:
        field = {"LEASE": "lease", "MOD": "mod_revision", "CREATE": "create_revision"}[c["target"]]
        compare.append({"key": _d(c["key"]), "target": c["target"], "result": c["result"], "value": int(c[field])})

    def ops(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for op in items:
            if "request_put" in op:
                put = op["request_put"]
                entry: dict[str, Any] = {"put": _d(put["key"]), "value": json.loads(_d(put["value"]))}
                if "lease" in put:
                    entry["lease"] = int(put["lease"])
                out.append(entry)
            elif "request_delete_range" in op:
                out.append({"delete": _d(op["request_delete_range"]["key"])})
            else:
                out.append({"range": _d(op["request_range"]["key"])})
        return out

    return {"compare": compare, "success": ops(body["success"]), "failure": ops(body["failure"])}


def _actions(raw: list[dict[str, Any]]) -> list[Action]:
    out: list[Action] = []
    for a in raw:
        if "put" in a:
            out.append(Put(a["put"]["key"], a["put"]["obj"], a["put"]["expect_mod_revision"]))
        elif "create" in a:
            out.append(Create(a["create"]["prefix"], a["create"]["obj"]))
        elif "delete" in a:
            out.append(Delete(a["delete"]["key"], a["delete"]["expect_mod_revision"]))
        else:
            e = a["event"]
            out.append(CreateEvent(e["involved"], e["reason"], e["message"], e.get("type", "Normal"), e.get("component", "kubeform-reconciler")))
    return out


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    now = parse_time(case["now"])
    assert now is not None
    body, writes = txn_body(
        _actions(case["actions"]),
        Guard(case["guard"]["key"], case["guard"]["lease"]),
        now,
        case["suffixes"],
        case.get("event_lease", 0),
        case.get("host", ""),
        [tuple(i) for i in case.get("ids", [])],
    )
    want = case["expect"]
    got = readable(body)
    assert got["compare"] == want["compare"]
    assert got["success"] == want["success"]
    assert got["failure"] == want["failure"]
    assert [list(w) for w in writes] == want["writes"]


# -- the Writer against a fake etcd ----------------------------------------------------
class FakeEtcd:
    def __init__(self, succeed: bool = True, leader_lease: int = 7) -> None:
        self.succeed = succeed
        self.leader_lease = leader_lease
        self.calls: list[dict[str, Any]] = []
        self.grants = 0

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(body)
        if self.succeed:
            return {"header": {"revision": "50"}, "succeeded": True}
        kv = {"key": _b64(LEADER), "value": _b64("{}"), "mod_revision": "3", "lease": str(self.leader_lease)}
        return {"header": {"revision": "50"}, "responses": [{"response_range": {"kvs": [kv]}}]}

    def lease_grant(self, ttl: int) -> int:
        self.grants += 1
        return 1000 + self.grants


POD: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "default"}}
KEY = "/registry/pods/default/a"


GUARD = Guard(LEADER, 7)


def _writer(etcd: FakeEtcd, cache: Cache, guard: Guard | None = GUARD, clock: list[float] | None = None) -> Writer:
    t = clock if clock is not None else [0.0]
    return Writer(etcd, lambda: guard, cache, "m1", now=lambda: NOW, suffix=lambda: "s", event_lease=EventLease(etcd, clock=lambda: t[0]))


def test_done_writes_through_to_the_cache() -> None:
    cache = Cache.from_objects({KEY: dict(POD, metadata=dict(POD["metadata"], resourceVersion="40"))})
    etcd = FakeEtcd()
    bound = dict(POD, spec={"nodeName": "n1"})
    assert _writer(etcd, cache).perform([Put(KEY, bound, 40)]) == DONE
    item = cache.get(KEY)
    assert item is not None and item.mod_revision == 50 and item.obj["spec"] == {"nodeName": "n1"}
    assert item.obj["metadata"]["resourceVersion"] == "50"


def test_lost_race_is_a_conflict_and_lost_lease_is_not_leader() -> None:
    cache = Cache()
    assert _writer(FakeEtcd(succeed=False, leader_lease=7), cache).perform([Put(KEY, POD, 40)]) == CONFLICT
    assert _writer(FakeEtcd(succeed=False, leader_lease=8), cache).perform([Put(KEY, POD, 40)]) == NOT_LEADER
    assert cache.get(KEY) is None


def test_requeue_is_not_written() -> None:
    """Requeue is for the daemon's queue: alone it writes nothing, beside a Put it is skipped."""
    etcd = FakeEtcd()
    cache = Cache()
    assert _writer(etcd, cache).perform([Requeue(5.0)]) == DONE
    assert etcd.calls == []
    body, writes = txn_body([Requeue(5.0), Put(KEY, POD, 40)], GUARD, NOW, [])
    assert writes == [(KEY, POD)] and len(body["success"]) == 1


def test_no_guard_writes_nothing() -> None:
    etcd = FakeEtcd()
    assert _writer(etcd, Cache(), guard=None).perform([Put(KEY, POD, 40)]) == NOT_LEADER
    assert etcd.calls == []


def test_event_lease_is_reused_then_renewed() -> None:
    etcd = FakeEtcd()
    clock = [0.0]
    w = _writer(etcd, Cache(), clock=clock)
    event = CreateEvent(POD, "Scheduled", "m")
    w.perform([event])
    clock[0] = 59.0
    w.perform([event])
    assert etcd.grants == 1
    clock[0] = 60.0
    w.perform([event])
    assert etcd.grants == 2
    leases = [int(b["success"][0]["request_put"]["lease"]) for b in etcd.calls]
    assert leases == [1001, 1001, 1002]


def test_create_names_stamps_and_writes_through() -> None:
    cache = Cache()
    etcd = FakeEtcd()
    w = Writer(etcd, lambda: GUARD, cache, "m1", now=lambda: NOW, new_id=lambda: ("x7k2p", "uid-1"))
    template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-", "namespace": "default"}}
    assert w.perform([Create("/registry/pods/", template)]) == DONE
    item = cache.get("/registry/pods/default/web-x7k2p")
    assert item is not None
    assert item.obj["metadata"]["uid"] == "uid-1"
    assert item.obj["metadata"]["creationTimestamp"] == "2026-01-02T03:04:05Z"


def test_default_ids_use_kubernetes_alphabet() -> None:
    from kubeform.reconciler.machinery.writer import NAME_ALPHABET, _new_id

    suffix, uid = _new_id()
    assert len(suffix) == 5 and set(suffix) <= set(NAME_ALPHABET) and len(uid) == 36


def test_written_changes_go_to_on_change() -> None:
    """What the writer stored reaches the controllers as a watch event would (the watch
    event that follows changes nothing in the cache)."""
    cache = Cache.from_objects({KEY: dict(POD, metadata=dict(POD["metadata"], resourceVersion="40"))})
    seen: list[Any] = []
    w = Writer(FakeEtcd(), lambda: GUARD, cache, "m1", now=lambda: NOW, new_id=lambda: ("x7k2p", "uid-1"), on_change=seen.append)
    template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "web-", "namespace": "default"}}
    assert w.perform([Create("/registry/pods/", template), Put(KEY, dict(POD, spec={"nodeName": "n1"}), 40)]) == DONE
    assert [(c.key, c.old is None, c.new is not None) for c in seen] == [
        ("/registry/pods/default/web-x7k2p", True, True),
        (KEY, False, True),
    ]
    assert cache.apply("PUT", KEY, '{"spec": {"nodeName": "n1"}}', 50) is None


def test_unchanged_only_compares() -> None:
    """Unchanged guards the transaction on a key (0: absent) and writes nothing there."""
    from kubeform.reconciler.machinery.actions import Unchanged

    body, writes = txn_body([Delete(KEY, 40), Unchanged("/registry/configmaps/default/owner", 0),
                             Unchanged("/registry/minions/n1", 9)], GUARD, NOW, [])
    got = readable(body)
    assert [(c["key"], c["target"], c["value"]) for c in got["compare"][1:]] == [
        (KEY, "MOD", 40), ("/registry/configmaps/default/owner", "CREATE", 0), ("/registry/minions/n1", "MOD", 9),
    ]
    assert writes == [(KEY, None)] and len(body["success"]) == 1
