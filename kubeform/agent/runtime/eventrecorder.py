"""The agent's event recorder: v1 Events about pods and the node, written in batches.

Why its own room: the runtime loop records events from many pod workers at once; writing
each as it happens would cost etcd one transaction per Pulled/Created/Started and make a
pod's status wait for its events. Here they queue and one thread writes them.
"""

import datetime
import json
import logging
import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from kubeform.api import events as ev
from kubeform.api.etcd import EtcdClient, EtcdError, op_put

LOG = logging.getLogger("kubeform.agent.runtime")

Obj = Dict[str, Any]

#: How long one events lease is reused before a new one is granted.
EVENT_LEASE_REUSE = 600.0
#: A repeated event (same object, reason, message) within this long bumps its count.
EVENT_AGGREGATE = 600.0
#: Events written in one transaction at most (etcd's default --max-txn-ops is 128).
MAX_EVENT_OPS = 100


class EventRecorder(object):
    """Writes v1 Events under one etcd lease of EVENT_TTL, renewed every few minutes.

    Asynchronously, as the kubelet's recorder: record() queues, one thread writes what is
    queued in one transaction. A pod's worker so writes the pod's status without waiting
    for its Pulled/Created/Started events first, and a burst of pod starts costs etcd one
    write per batch instead of one per event. Events stay best effort (a failed write is
    logged, not retried)."""

    def __init__(self, client: EtcdClient, host: str, clock: Callable[[], float]) -> None:
        self.client = client
        self.host = host
        self.clock = clock
        self.lock = threading.Lock()
        self.lease = 0
        self.lease_at = 0.0
        self.recent = {}  # type: Dict[Tuple[str, str, str, str, str], Tuple[float, str, Obj]]
        self.pending = []  # type: List[Tuple[str, Obj]]
        self.wake = threading.Event()
        self.writer = None  # type: Optional[threading.Thread]

    def _lease(self) -> int:
        with self.lock:
            now = time.monotonic()
            if not self.lease or now - self.lease_at > EVENT_LEASE_REUSE:
                self.lease = self.client.lease_grant(ev.EVENT_TTL)
                self.lease_at = now
            return self.lease

    def record(self, obj: Obj, reason: str, message: str, warning: bool = False, field_path: str = "") -> None:
        """Queue an event; the same one again within EVENT_AGGREGATE bumps count and
        lastTimestamp of the first (as the kubelet's event correlator does)."""
        stamp = self.clock()
        now = datetime.datetime.utcfromtimestamp(stamp)
        meta = obj.get("metadata") or {}
        same = (meta.get("uid", ""), meta.get("name", ""), reason, message, field_path)
        with self.lock:
            seen = self.recent.get(same)
            if seen is not None and stamp - seen[0] < EVENT_AGGREGATE:
                key, event = seen[1], dict(seen[2])
                event["count"] = int(event.get("count", 1)) + 1
                event["lastTimestamp"] = ev.rfc3339(now)
            else:
                key, event = ev.make_event(
                    obj, reason, message, now, os.urandom(8).hex(),
                    ev.WARNING if warning else ev.NORMAL, "kubelet", self.host, field_path,
                )
                if len(self.recent) > 2000:
                    self.recent.clear()
            self.recent[same] = (seen[0] if seen is not None and key == seen[1] else stamp, key, event)
            self.pending.append((key, event))
            if self.writer is None:
                self.writer = threading.Thread(target=self.run, name="events")
                self.writer.daemon = True
                self.writer.start()
        self.wake.set()

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write what is queued: one transaction per MAX_EVENT_OPS events (the newest
        version of each key; etcd refuses a key twice in one transaction)."""
        with self.lock:
            batch, self.pending = self.pending, []
        latest = {}  # type: Dict[str, Obj]
        for key, event in batch:
            latest.pop(key, None)
            latest[key] = event
        items = list(latest.items())
        for start in range(0, len(items), MAX_EVENT_OPS):
            chunk = items[start:start + MAX_EVENT_OPS]
            try:
                lease = self._lease()
                self.client.txn([], [op_put(k, json.dumps(e, separators=(",", ":")), lease=lease) for k, e in chunk])
            except EtcdError as exc:
                with self.lock:
                    self.lease = 0
                LOG.warning("events (%s): %s", ", ".join(str(e.get("reason", "")) for _k, e in chunk[:5]), exc)
