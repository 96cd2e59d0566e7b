"""One leader among the masters' reconcilers, through an etcd lease.

The leader key ``/registry/leases/kube-system/kubeform-reconciler`` holds a
coordination.k8s.io/v1 Lease naming the holder, and is bound to the holder's etcd lease
(TTL ``LEASE_TTL``), which the holder renews every ``RENEW_SECONDS``. Campaigning is a
transaction "create the key if it does not exist", so at most one wins; the others watch
the key and campaign again as soon as it is gone, which etcd does by itself when the
holder stops renewing (crash, kill -9, partition) or at once when it revokes its lease
(SIGTERM). The etcd lease, not the JSON, is the truth: every write of the leader compares
the key's lease with its own (see machinery/writer.py), so a leader that lost the key
writes nothing even before it notices. It also steps down by itself when it could not
renew for ``LEASE_TTL - MARGIN`` seconds, because etcd may already have expired it.

``decide`` is the pure part: what to do given what was observed and when.
"""

import datetime
import json
import logging
import socket
import threading
import time
from typing import Any, Callable, Dict, NamedTuple, Optional

from kubeform.api.etcd import EtcdError, key_absent, op_put
from kubeform.api.events import rfc3339

from .machinery.writer import Guard

LOG = logging.getLogger("kubeform.reconciler.leader")

LEADER_KEY = "/registry/leases/kube-system/kubeform-reconciler"
LEASE_TTL = 10
RENEW_SECONDS = 2.0
#: A leader whose last successful renewal is older than LEASE_TTL - MARGIN steps down.
MARGIN = 2.0

CAMPAIGN = "campaign"  # nobody holds the key: try to create it
FOLLOW = "follow"  # someone else holds it (or etcd cannot be read): wait
LEAD = "lead"  # the key is bound to our lease and renewals are recent: lead, renew
LOST = "lost"  # we led, but the key is not ours any more or renewals are too old: stop


class Seen(NamedTuple):
    """The leader key as read: the etcd lease it is bound to (0 = no key) and its holder."""

    lease: int
    holder: str


NOBODY = Seen(0, "")


def decide(leading: bool, my_lease: int, seen: Optional[Seen], last_renewed: float, now: float, ttl: float = LEASE_TTL, margin: float = MARGIN) -> str:
    """The next step. ``seen`` None: etcd could not be read. Times on one monotonic clock."""
    if leading:
        if now - last_renewed > ttl - margin:
            return LOST
        if seen is None:
            return LEAD  # etcd unreachable: keep leading until the renewal deadline
        return LEAD if my_lease and seen.lease == my_lease else LOST
    if seen is None:
        return FOLLOW
    if seen.lease == 0:
        return CAMPAIGN
    if my_lease and seen.lease == my_lease:
        return LEAD  # our campaign won though its answer was lost
    return FOLLOW


def lease_object(identity: str, now: datetime.datetime, ttl: int = LEASE_TTL) -> Dict[str, Any]:
    """The coordination.k8s.io/v1 Lease stored at the leader key."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": LEADER_KEY.rsplit("/", 1)[1],
            "namespace": "kube-system",
            "creationTimestamp": rfc3339(now),
        },
        "spec": {
            "holderIdentity": identity,
            "leaseDurationSeconds": ttl,
            "acquireTime": stamp,
            "renewTime": stamp,
        },
    }


def parse_seen(kv: Any) -> Seen:
    """What a read of the leader key says (a KV or None)."""
    if kv is None:
        return NOBODY
    try:
        holder = str(((json.loads(kv.value) or {}).get("spec") or {}).get("holderIdentity") or "")
    except (ValueError, AttributeError):
        holder = ""
    return Seen(int(kv.lease), holder)


class Elector(object):
    """Campaigns, renews, steps down; tells the daemon when leadership starts and stops."""

    def __init__(self, client: Any, identity: str, key: str = LEADER_KEY, ttl: int = LEASE_TTL, renew: float = RENEW_SECONDS, clock: Callable[[], float] = time.monotonic, now: Optional[Callable[[], datetime.datetime]] = None) -> None:
        self.client = client
        self.identity = identity
        self.key = key
        self.ttl = ttl
        self.renew = renew
        self.clock = clock
        self.now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self.leading = False
        self.lease_id = 0
        self.last_renewed = 0.0
        self.revision = 0
        self.holder = ""
        self._lock = threading.Lock()

    def guard(self) -> Optional[Guard]:
        """What the writer must compare: None when not leading (then nothing is written)."""
        with self._lock:
            if not self.leading or not self.lease_id:
                return None
            if self.clock() - self.last_renewed > self.ttl - MARGIN:
                return None
            return Guard(self.key, self.lease_id)

    def observe(self) -> Optional[Seen]:
        try:
            kvs, revision = self.client.range(self.key)
        except (EtcdError, OSError, ValueError) as exc:
            LOG.warning("reading %s: %s", self.key, exc)
            return None
        self.revision = revision
        seen = parse_seen(kvs[0] if kvs else None)
        if seen.holder != self.holder:
            self.holder = seen.holder
            LOG.info("leader is now %s", seen.holder or "nobody")
        return seen

    def campaign(self) -> bool:
        lease = self.client.lease_grant(self.ttl)
        value = json.dumps(lease_object(self.identity, self.now(), self.ttl), separators=(",", ":"))
        ok, _ = self.client.txn([key_absent(self.key)], [op_put(self.key, value, lease)])
        if not ok:
            self.client.lease_revoke(lease)
            return False
        with self._lock:
            self.lease_id = lease
            self.last_renewed = self.clock()
        return True

    def keepalive(self) -> None:
        """Renew our lease; a lease etcd says has expired ends the renewals (decide says LOST)."""
        try:
            left = self.client.lease_keepalive(self.lease_id)
        except (EtcdError, OSError, ValueError) as exc:
            LOG.warning("renewing the leader lease: %s", exc)
            return
        if left > 0:
            with self._lock:
                self.last_renewed = self.clock()
        else:
            with self._lock:
                self.last_renewed = -float(self.ttl) * 2  # expired: decide() will say LOST

    def step(self, on_start: Callable[[], None], on_stop: Callable[[], None]) -> str:
        """Observe, decide, act once; returns the decision."""
        if self.leading:
            self.keepalive()
        seen = self.observe()
        decision = decide(self.leading, self.lease_id, seen, self.last_renewed, self.clock(), self.ttl)
        if decision == CAMPAIGN:
            try:
                won = self.campaign()
            except (EtcdError, OSError, ValueError) as exc:
                LOG.warning("campaign: %s", exc)
                won = False
            if won:
                self._start(on_start)
                return LEAD
            return FOLLOW
        if decision == LEAD and not self.leading:
            self._start(on_start)
        elif decision == LOST:
            self._stop(on_stop, revoke=True)
        return decision

    def _start(self, on_start: Callable[[], None]) -> None:
        with self._lock:
            self.leading = True
            self.last_renewed = self.clock()
        self.holder = self.identity
        LOG.info("%s is the leader (lease %x)", self.identity, self.lease_id)
        on_start()

    def _stop(self, on_stop: Callable[[], None], revoke: bool) -> None:
        with self._lock:
            self.leading = False
            lease, self.lease_id = self.lease_id, 0
        LOG.warning("%s stops leading; writing stops", self.identity)
        on_stop()
        if revoke and lease:
            try:
                self.client.lease_revoke(lease)
            except (EtcdError, OSError, ValueError):
                pass

    def wait(self, stop: threading.Event) -> None:
        """Until the next step: the renewal period when leading, else until the key changes."""
        if self.leading or self.revision == 0:
            stop.wait(self.renew)
            return
        try:
            for _ in self.client.watch(self.key, start_revision=self.revision + 1, timeout=self.renew):
                return
        except socket.timeout:
            return
        except (EtcdError, OSError, ValueError):
            stop.wait(0.5)

    def run(self, stop: threading.Event, on_start: Callable[[], None], on_stop: Callable[[], None]) -> None:
        while not stop.is_set():
            self.step(on_start, on_stop)
            if not stop.is_set():
                self.wait(stop)

    def release(self, on_stop: Callable[[], None]) -> None:
        """Stop leading and revoke the lease: the key goes now, a standby takes over at once."""
        if self.leading:
            self._stop(on_stop, revoke=True)
            LOG.info("leader lease released")
