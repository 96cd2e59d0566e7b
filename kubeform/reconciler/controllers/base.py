"""The shape of a controller: which keys it owns, what it watches, and a pure ``sync``.

A controller is data plus two pure functions:

- ``sync(key, view, now) -> [Action]``: the decision for one key of its primary prefix,
  read from the cache (``view``: ``get(key)`` and ``list(prefix)``, items with ``obj`` and
  ``mod_revision``) at time ``now`` (aware UTC). No clock, uuid or I/O inside: actions
  (machinery/actions.py) say what to write; the writer does it. A decision that depends
  on time also returns ``Requeue(after)``: the daemon syncs the key again that many
  seconds later (once the other actions are written).
- ``related(change, view) -> [key]``: when something under one of its watched prefixes
  changed (a cache Change: key, old item, new item), which primary keys to sync again.

Two optional pure hooks:

- ``wake(key, view, now) -> seconds or None``: after a sync was written, when the key's
  decision will change by time alone (a pod becoming available after minReadySeconds, a
  progress deadline passing); the daemon queues the key again then.
- ``failed(key, view, now, error) -> [Action]``: what to record when the writer could not
  perform a sync's actions that created objects (etcd refused the transaction): e.g. a
  ReplicaSet's ReplicaFailure condition and a FailedCreate event. Written once, best effort.

The daemon runs informers for the union of every controller's prefixes, one work queue
and ``workers`` worker threads per controller, and resyncs every primary key every
``resync`` seconds (level-triggered: a missed change is only ever late, never lost).
"""

import datetime
from typing import Any, Callable, List, NamedTuple, Optional, Tuple

from ..machinery.actions import Action
from ..machinery.cache import Change

#: The view a controller reads: kubeform.reconciler.machinery.cache.Cache (get, list).
View = Any

SyncFn = Callable[[str, View, datetime.datetime], List[Action]]
RelatedFn = Callable[[Change, View], List[str]]
WakeFn = Callable[[str, View, datetime.datetime], Optional[float]]
FailedFn = Callable[[str, View, datetime.datetime, str], List[Action]]


def own_key(change: Change, view: View) -> List[str]:
    """The default ``related``: a change of a primary object syncs that object."""
    return [change.key]


class Controller(NamedTuple):
    """One controller as the daemon runs it."""

    name: str
    primary: str  # etcd prefix of the keys it syncs, e.g. /registry/pods/
    watches: Tuple[str, ...]  # every prefix its decisions read (primary included)
    sync: SyncFn
    related: RelatedFn = own_key
    workers: int = 1
    resync: float = 30.0
    wake: Optional[WakeFn] = None
    failed: Optional[FailedFn] = None
