"""The informers' in-memory copy of etcd, keyed by etcd key: what every decision reads.

One cache holds every watched prefix. Objects are decoded once, with
``metadata.resourceVersion`` = the key's mod_revision (as the store shows them), and
never changed in place: a controller copies before it edits. Changes carry the old and
the new item so controllers can decide which keys to requeue.

Every change also bumps a generation number and goes into a bounded log, so a consumer
that derives state from the cache (the scheduler's Snapshot) can catch up with
``changes_since(generation)`` instead of rebuilding from every object.

Two writers feed it: the informers (list, then watch events) and the reconciler's own
writer (write-through, so the next decision sees what was just written instead of a
stale copy until the watch catches up). Revisions order them: an item only ever moves
forward, and a deleted key remembers its deletion revision (a tombstone) until the watch
has passed it, so a late event cannot bring it back.
"""

import bisect
import collections
import json
import threading
from typing import Any, Deque, Dict, Iterable, List, NamedTuple, Optional, Tuple

Obj = Dict[str, Any]

#: Changes kept for ``changes_since``; a consumer further behind rebuilds from scratch.
LOG_LIMIT = 10000


class Item(NamedTuple):
    """One cached object: its key, the decoded object and the key's mod_revision."""

    key: str
    obj: Obj
    mod_revision: int


class Change(NamedTuple):
    """What one event did to the cache: old is None for a new key, new None for a delete."""

    key: str
    old: Optional[Item]
    new: Optional[Item]


def decode(key: str, value: str, mod_revision: int) -> Optional[Item]:
    """The item for a stored value; None for a value that is not a JSON object."""
    try:
        obj = json.loads(value)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta["resourceVersion"] = str(mod_revision)
    return Item(key, obj, mod_revision)


def with_revision(key: str, obj: Obj, mod_revision: int) -> Item:
    """An item for an object the writer just stored (resourceVersion set on a copy)."""
    out = dict(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        out["metadata"] = dict(meta, resourceVersion=str(mod_revision))
    return Item(key, out, mod_revision)


class Cache(object):
    """Items by key, safe to read from workers while informers write."""

    def __init__(self, items: Iterable[Item] = ()) -> None:
        self._lock = threading.Lock()
        self._items: Dict[str, Item] = {i.key: i for i in items}
        # every key, sorted: a prefix is a range found by bisection, not a scan of the
        # whole cache (a ReplicaSet's sync lists one namespace's pods among 10,000)
        self._sorted: List[str] = sorted(self._items)
        self._tombstones: Dict[str, int] = {}
        self._generation = 0
        self._log: Deque[Tuple[int, Change]] = collections.deque(maxlen=LOG_LIMIT)

    @classmethod
    def from_objects(cls, objects: Dict[str, Obj]) -> "Cache":
        """A cache from {key: object} (tests): mod_revision from metadata.resourceVersion."""
        items = []
        for key, obj in objects.items():
            rv = (obj.get("metadata") or {}).get("resourceVersion") or 1
            items.append(Item(key, obj, int(rv)))
        return cls(items)

    # -- reading (the View every controller gets) ---------------------------------------

    def get(self, key: str) -> Optional[Item]:
        with self._lock:
            return self._items.get(key)

    def _range(self, prefix: str) -> List[str]:
        """The keys under prefix, in order (the lock is held)."""
        start = bisect.bisect_left(self._sorted, prefix)
        end = start
        n = len(self._sorted)
        while end < n and self._sorted[end].startswith(prefix):
            end += 1
        return self._sorted[start:end]

    def list(self, prefix: str) -> List[Item]:
        """Every item under prefix, in key order."""
        with self._lock:
            return [self._items[k] for k in self._range(prefix)]

    def keys(self, prefix: str = "") -> List[str]:
        with self._lock:
            return self._range(prefix)

    @property
    def generation(self) -> int:
        """How many changes the cache has seen (never goes down)."""
        with self._lock:
            return self._generation

    def lists(self, prefixes: List[str]) -> Tuple[int, List[List[Item]]]:
        """Every item under each prefix, and the generation they were read at (one lock)."""
        with self._lock:
            found = [[self._items[k] for k in self._range(p)] for p in prefixes]
            generation = self._generation
        return generation, found

    def changes_since(self, generation: int) -> Tuple[int, Optional[List[Change]]]:
        """The changes after ``generation``, in order, and the generation now; None when the
        log no longer reaches back that far (then rebuild from ``lists``)."""
        with self._lock:
            if generation == self._generation:
                return generation, []
            if generation > self._generation or not self._log or self._log[0][0] > generation + 1:
                return self._generation, None
            return self._generation, [c for g, c in self._log if g > generation]

    def _index(self, key: str) -> None:
        bisect.insort(self._sorted, key)

    def _unindex(self, key: str) -> None:
        at = bisect.bisect_left(self._sorted, key)
        if at < len(self._sorted) and self._sorted[at] == key:
            del self._sorted[at]

    def _record(self, change: Change) -> Change:
        """Count and log a change (the lock is held)."""
        self._generation += 1
        self._log.append((self._generation, change))
        return change

    # -- writing -----------------------------------------------------------------------

    def replace(self, prefix: str, items: Iterable[Item], revision: int) -> List[Change]:
        """A fresh list of ``prefix`` read at ``revision``: what was added, changed, deleted.

        What the writer stored after that revision is newer than the list and stays.
        """
        fresh = {i.key: i for i in items}
        changes: List[Change] = []
        with self._lock:
            for key in [k for k in self._items if k.startswith(prefix)]:
                if key not in fresh and self._items[key].mod_revision <= revision:
                    changes.append(self._record(Change(key, self._items.pop(key), None)))
                    self._unindex(key)
            for key, item in fresh.items():
                old = self._items.get(key)
                if old is not None and old.mod_revision > item.mod_revision:
                    continue  # our own write-through is newer than this list
                if self._tombstones.get(key, 0) > item.mod_revision:
                    continue  # we deleted it after this list was read
                if old is None:
                    self._index(key)
                self._items[key] = item
                self._tombstones.pop(key, None)
                if old is None or old.mod_revision != item.mod_revision:
                    changes.append(self._record(Change(key, old, item)))
        changes.sort(key=lambda c: c.key)
        return changes

    def apply(self, event: str, key: str, value: str, mod_revision: int) -> Optional[Change]:
        """One watch event (PUT or DELETE); None when it changes nothing (old or repeated)."""
        if event == "DELETE":
            return self._delete(key, mod_revision)
        item = decode(key, value, mod_revision)
        if item is None:
            return self._delete(key, mod_revision)
        return self._put(item)

    def write_through(self, key: str, obj: Optional[Obj], revision: int) -> Optional[Change]:
        """What the writer stored at ``revision`` (obj None: it deleted the key)."""
        if obj is None:
            return self._delete(key, revision)
        return self._put(with_revision(key, obj, revision))

    def _put(self, item: Item) -> Optional[Change]:
        with self._lock:
            old = self._items.get(item.key)
            if old is not None and old.mod_revision >= item.mod_revision:
                return None
            if self._tombstones.get(item.key, 0) >= item.mod_revision:
                return None
            self._tombstones.pop(item.key, None)
            if old is None:
                self._index(item.key)
            self._items[item.key] = item
            return self._record(Change(item.key, old, item))

    def _delete(self, key: str, revision: int) -> Optional[Change]:
        with self._lock:
            old = self._items.get(key)
            if old is not None and old.mod_revision > revision:
                return None
            self._tombstones[key] = max(revision, self._tombstones.get(key, 0))
            if old is None:
                return None
            del self._items[key]
            self._unindex(key)
            return self._record(Change(key, old, None))

    def forget_tombstones(self, prefix: str, revision: int) -> None:
        """The watch of prefix has seen everything up to revision: older tombstones go."""
        with self._lock:
            for key in [k for k, r in self._tombstones.items() if k.startswith(prefix) and r <= revision]:
                del self._tombstones[key]
