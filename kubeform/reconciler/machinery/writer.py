"""The one writer: a sync's actions become one etcd transaction, guarded twice.

Every Put and Delete compares the key's mod_revision with the revision the decision was
made on, so a decision on stale data is refused (the key is requeued and decided again on
the newer copy). What a transaction wrote goes into the cache at once (write-through) and,
as a change, to ``on_change`` (the daemon's dispatch), as a watch event would have: the
watch event that follows changes nothing in the cache and is not dispatched again. Every
transaction also compares the leader key's etcd lease with ours,
so a reconciler that lost leadership (lease lapsed, someone else took it) writes nothing,
even if it has not noticed yet. All actions of one sync go in one transaction: a pod is
never bound without its Scheduled event or the other way round.

Events are bound to one shared etcd lease, re-granted every ``EVENT_LEASE_REUSE``
seconds instead of one lease per event (what the apiserver does too); it is granted for
EVENT_TTL plus that window so every event lives at least EVENT_TTL.

``txn_body`` is pure (actions in, the gateway's JSON out); ``Writer`` adds the I/O.
"""

import datetime
import json
import logging
import random
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api import events
from kubeform.api.etcd import (
    KV,
    Compare,
    EtcdError,
    key_absent,
    key_unchanged,
    op_delete,
    op_get,
    op_put,
)

from .actions import CREATE, Action, Create, CreateEvent, Delete, Put, Requeue, Unchanged
from .cache import Cache, Change

LOG = logging.getLogger("kubeform.reconciler.writer")

DONE = "done"  # written
CONFLICT = "conflict"  # an object changed since the decision: requeue the key
NOT_LEADER = "not-leader"  # the leader key is not ours: nothing written, stop writing

EVENT_LEASE_REUSE = 60
#: Kubernetes' generateName alphabet (no vowels, no 0/1/3: no words, no look-alikes).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LEN = 5


class Guard(NamedTuple):
    """The leader key and the etcd lease it must be bound to for any write to happen."""

    key: str
    lease: int


def encode(obj: Dict[str, Any]) -> str:
    """Stored JSON as the store writes it: compact, without resourceVersion."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "resourceVersion" in meta:
        obj = dict(obj, metadata={k: v for k, v in meta.items() if k != "resourceVersion"})
    return json.dumps(obj, separators=(",", ":"))


def created(action: Create, name_suffix: str, uid: str, now: datetime.datetime) -> Tuple[str, Dict[str, Any]]:
    """The key and object a Create stores: named (generateName + suffix), uid, timestamp."""
    meta = dict(action.obj.get("metadata") or {})
    if not meta.get("name"):
        meta["name"] = str(meta.get("generateName") or "") + name_suffix
    meta["uid"] = uid
    meta["creationTimestamp"] = events.rfc3339(now)
    meta.pop("resourceVersion", None)
    obj = dict(action.obj, metadata=meta)
    ns = meta.get("namespace")
    key = action.prefix + (ns + "/" if ns else "") + meta["name"]
    return key, obj


def txn_body(actions: List[Action], guard: Guard, now: datetime.datetime, suffixes: List[str], event_lease: int = 0, host: str = "", ids: Optional[List[Tuple[str, str]]] = None) -> Tuple[Dict[str, Any], List[Tuple[str, Optional[Dict[str, Any]]]]]:
    """The transaction for ``actions``, and what it writes (key, object or None = deleted).

    ``suffixes`` name the events, one per CreateEvent, in order; ``ids`` are (name suffix,
    uid), one per Create, in order (both drawn by the caller, so this stays pure).
    The failure branch reads the leader key, to tell a lost race from lost leadership.
    """
    compare: List[Compare] = [Compare(guard.key, "LEASE", guard.lease)]
    success: List[Dict[str, Any]] = []
    writes: List[Tuple[str, Optional[Dict[str, Any]]]] = []
    names = list(suffixes)
    new_ids = list(ids or [])
    for action in actions:
        if isinstance(action, Create):
            if not new_ids:
                raise ValueError("one (name suffix, uid) per Create")
            suffix, uid = new_ids.pop(0)
            key, obj = created(action, suffix, uid, now)
            compare.append(key_absent(key))
            success.append(op_put(key, encode(obj)))
            writes.append((key, obj))
        elif isinstance(action, Put):
            if action.expect_mod_revision == CREATE:
                compare.append(key_absent(action.key))
            else:
                compare.append(key_unchanged(action.key, action.expect_mod_revision))
            success.append(op_put(action.key, encode(action.obj)))
            writes.append((action.key, action.obj))
        elif isinstance(action, Delete):
            compare.append(key_unchanged(action.key, action.expect_mod_revision))
            success.append(op_delete(action.key))
            writes.append((action.key, None))
        elif isinstance(action, Unchanged):
            if action.expect_mod_revision == CREATE:
                compare.append(key_absent(action.key))
            else:
                compare.append(key_unchanged(action.key, action.expect_mod_revision))
        elif isinstance(action, CreateEvent):
            if not names:
                raise ValueError("one suffix per CreateEvent")
            key, event = events.make_event(
                action.involved,
                action.reason,
                action.message,
                now,
                names.pop(0),
                event_type=action.event_type,
                component=action.component,
                host=host,
                field_path=action.field_path,
            )
            success.append(op_put(key, encode(event), event_lease))
        elif isinstance(action, Requeue):
            continue  # for the daemon's queue, not for etcd
        else:
            raise TypeError("not an action: %r" % (action,))
    body = {
        "compare": [c.to_json() for c in compare],
        "success": success,
        "failure": [op_get(guard.key)],
    }
    return body, writes


def still_leader(failure_responses: List[Dict[str, Any]], guard: Guard) -> bool:
    """From a failed transaction's answer: is the leader key still bound to our lease?"""
    for response in failure_responses:
        for raw in response.get("response_range", {}).get("kvs", []):
            kv = KV(raw)
            if kv.key == guard.key:
                return kv.lease == guard.lease
    return False


class EventLease(object):
    """The etcd lease events are bound to, granted again every ``reuse`` seconds."""

    def __init__(self, client: Any, ttl: int = events.EVENT_TTL, reuse: int = EVENT_LEASE_REUSE, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.reuse = reuse
        self.clock = clock
        self.lease_id = 0
        self.granted_at = 0.0

    def current(self) -> int:
        now = self.clock()
        if not self.lease_id or now - self.granted_at >= self.reuse:
            self.lease_id = self.client.lease_grant(self.ttl + self.reuse)
            self.granted_at = now
        return self.lease_id

    def drop(self) -> None:
        self.lease_id = 0


def _new_id() -> Tuple[str, str]:
    """A generateName suffix and a uid for one Create."""
    rng = random.SystemRandom()
    return "".join(rng.choice(NAME_ALPHABET) for _ in range(NAME_SUFFIX_LEN)), str(uuid.uuid4())


class Writer(object):
    """Performs actions for every worker, one transaction at a time."""

    def __init__(self, client: Any, guard: Callable[[], Optional[Guard]], cache: Cache, host: str = "", now: Optional[Callable[[], datetime.datetime]] = None, suffix: Optional[Callable[[], str]] = None, event_lease: Optional[EventLease] = None, new_id: Optional[Callable[[], Tuple[str, str]]] = None, on_change: Optional[Callable[[Change], None]] = None) -> None:
        self.client = client
        self.on_change = on_change
        self.guard = guard
        self.cache = cache
        self.host = host
        self.now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.suffix = suffix or (lambda: uuid.uuid4().hex[:16])
        self.new_id = new_id or _new_id
        self.event_lease = event_lease or EventLease(client)
        self._lock = threading.Lock()
        self.written = 0

    def perform(self, actions: List[Action]) -> str:
        """DONE, CONFLICT (requeue the key) or NOT_LEADER (nothing was written)."""
        if not any(not isinstance(a, Requeue) for a in actions):
            return DONE
        changes: List[Change] = []
        try:
            with self._lock:
                guard = self.guard()
                if guard is None:
                    return NOT_LEADER
                for attempt in (1, 2):
                    try:
                        return self._perform(actions, guard, changes)
                    except EtcdError as exc:
                        if attempt == 1 and "lease not found" in str(exc) and self.event_lease.lease_id:
                            LOG.info("event lease expired; granting a new one")
                            self.event_lease.drop()
                            continue
                        raise
            return CONFLICT
        finally:
            # outside the lock: what we wrote concerns other controllers as much as a watch
            # event would (a pod a ReplicaSet created must be scheduled now, not at resync)
            if self.on_change is not None:
                for change in changes:
                    self.on_change(change)

    def _perform(self, actions: List[Action], guard: Guard, changes: List[Change]) -> str:
        n_events = sum(1 for a in actions if isinstance(a, CreateEvent))
        n_creates = sum(1 for a in actions if isinstance(a, Create))
        lease = self.event_lease.current() if n_events else 0
        body, writes = txn_body(
            actions, guard, self.now(), [self.suffix() for _ in range(n_events)], lease, self.host,
            [self.new_id() for _ in range(n_creates)],
        )
        answer = self.client.call("/v3/kv/txn", body)
        if answer.get("succeeded"):
            revision = int(answer.get("header", {}).get("revision", 0))
            for key, obj in writes:
                change = self.cache.write_through(key, obj, revision)
                if change is not None:
                    changes.append(change)
            self.written += 1
            return DONE
        if still_leader(list(answer.get("responses", [])), guard):
            return CONFLICT
        return NOT_LEADER
