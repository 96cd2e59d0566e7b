"""A cache of every object under an etcd prefix: one range, then a watch from its revision.

Why: the manager looks at pods, ConfigMaps and Secrets every second; ranging them all each
time would cost every node a full read of the cluster per second. The cache is relisted
when the watch breaks (or is compacted away) and every ``resync`` seconds anyway, so a
missed event costs at most one resync: the loop stays level-triggered.
"""

import json
import logging
import socket
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

from kubeform.api.etcd import EtcdClient, EtcdError

LOG = logging.getLogger("kubeform.agent.runtime")

Obj = Dict[str, Any]


#: Whether a change (the object before, after; None when absent) concerns this agent.
Relevant = Callable[[Optional[Obj], Optional[Obj]], bool]


class Informer(object):
    def __init__(self, client: EtcdClient, prefix: str, on_change: Callable[[], None], resync: float = 60.0,
                 relevant: Optional[Relevant] = None) -> None:
        """relevant: watch events it says no to update the cache without calling
        on_change (a node's agent need not wake for every pod of the cluster); a relist
        always calls it."""
        self.client = client
        self.prefix = prefix
        self.on_change = on_change
        self.relevant = relevant
        self.resync = resync
        self.lock = threading.Lock()
        self.items = {}  # type: Dict[str, Tuple[int, Obj]]  # key -> (mod_revision, object)
        self.revision = 0
        self.synced = False
        self.listed_at = 0.0

    def relist(self) -> None:
        kvs, revision = self.client.range(self.prefix, prefix=True)
        items = {}  # type: Dict[str, Tuple[int, Obj]]
        for kv in kvs:
            obj = _parse(kv.value)
            if obj is not None:
                items[kv.key] = (kv.mod_revision, obj)
        with self.lock:
            self.items = items
            self.revision = revision
            self.synced = True
            self.listed_at = time.monotonic()
        self.on_change()

    def snapshot(self) -> Dict[str, Tuple[int, Obj]]:
        with self.lock:
            return dict(self.items)

    def get(self, key: str) -> Optional[Obj]:
        """One object as the cache has it now (None when absent), without copying the rest."""
        with self.lock:
            found = self.items.get(key)
        return found[1] if found is not None else None

    def apply(self, kind: str, key: str, value: str, mod_revision: int) -> bool:
        """Fold one watch event into the cache; whether on_change should hear of it."""
        with self.lock:
            before = self.items.get(key)
            after = None  # type: Optional[Obj]
            if kind == "DELETE":
                self.items.pop(key, None)
            else:
                after = _parse(value)
                if after is not None:
                    self.items[key] = (mod_revision, after)
            self.revision = max(self.revision, mod_revision)
        if self.relevant is None:
            return True
        return self.relevant(before[1] if before is not None else None, after)

    def run(self, stop: threading.Event) -> None:
        """List, then follow the watch; relist on any break or every resync seconds."""
        while not stop.is_set():
            try:
                if not self.synced or time.monotonic() - self.listed_at > self.resync:
                    self.relist()
                start = self.revision + 1
                for kind, kv in self.client.watch(self.prefix, prefix=True, start_revision=start, timeout=10.0):
                    if self.apply(kind, kv.key, kv.value, kv.mod_revision):
                        self.on_change()
                    if stop.is_set() or time.monotonic() - self.listed_at > self.resync:
                        break
            except socket.timeout:
                continue  # quiet for 10 s: watch again from the same revision
            except (EtcdError, OSError, ValueError) as exc:
                LOG.debug("watch %s: %s", self.prefix, exc)
                self.synced = False
                stop.wait(1.0)


def _parse(value: str) -> Optional[Obj]:
    try:
        obj = json.loads(value)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None
