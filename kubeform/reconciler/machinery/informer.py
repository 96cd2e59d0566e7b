"""List + watch one etcd prefix into the shared cache, resuming where it left off.

Why this shape (Kubernetes' reflector): a list gives the whole state at revision R, a
watch from R+1 gives every change after it, so the cache is exact without reading etcd
again. A watch that breaks or goes quiet is re-opened from the last revision seen; one
whose revision etcd has compacted away (etcd answers ``compact_revision``) cannot be
resumed, so the prefix is listed again and the cache diffed against the fresh list,
which turns whatever was missed into ordinary changes. Each change goes to ``on_change``
(the daemon maps it to work-queue keys); decisions then read the cache, never the event.
"""

import logging
import socket
import threading
from typing import Any, Callable, List, Optional

from kubeform.api.etcd import EtcdError, WatchCompacted

from .cache import Cache, Change, decode

LOG = logging.getLogger("kubeform.reconciler.informer")

#: Seconds of silence after which a watch is re-opened (from the last revision seen).
WATCH_TIMEOUT = 30.0


class Informer(object):
    """Keeps ``cache`` equal to etcd under ``prefix``; tells ``on_change`` what changed."""

    def __init__(self, client: Any, prefix: str, cache: Cache, on_change: Callable[[Change], None], watch_timeout: float = WATCH_TIMEOUT) -> None:
        self.client = client
        self.prefix = prefix
        self.cache = cache
        self.on_change = on_change
        self.watch_timeout = watch_timeout
        self.revision = 0  # everything up to here is in the cache
        self.needs_list = True
        self.lists = 0  # how many times the prefix was listed (tests, logs)
        self.synced = threading.Event()

    def relist(self) -> List[Change]:
        """Read the whole prefix; the cache becomes that list. Returns the changes."""
        kvs, revision = self.client.range(self.prefix, prefix=True)
        items = []
        for kv in kvs:
            item = decode(kv.key, kv.value, kv.mod_revision)
            if item is None:
                LOG.warning("%s: not a JSON object; ignored", kv.key)
                continue
            items.append(item)
        changes = self.cache.replace(self.prefix, items, revision)
        self.revision = revision
        self.needs_list = False
        self.lists += 1
        self.cache.forget_tombstones(self.prefix, revision)
        LOG.info("listed %s: %d objects at revision %d", self.prefix, len(items), revision)
        for change in changes:
            self.on_change(change)
        self.synced.set()
        return changes

    def watch_once(self, stop: Optional[threading.Event] = None) -> None:
        """One watch session from revision+1 until it ends, goes quiet or is compacted."""
        stream = self.client.watch(
            self.prefix, prefix=True, start_revision=self.revision + 1, timeout=self.watch_timeout
        )
        try:
            for event, kv in stream:
                change = self.cache.apply(event, kv.key, kv.value, kv.mod_revision)
                if kv.mod_revision > self.revision:
                    self.revision = kv.mod_revision
                if change is not None:
                    self.on_change(change)
                if stop is not None and stop.is_set():
                    return
        except WatchCompacted as exc:
            LOG.warning("%s: %s; listing again", self.prefix, exc)
            self.needs_list = True
        except socket.timeout:
            pass  # quiet for watch_timeout seconds: re-open from the same revision
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        self.cache.forget_tombstones(self.prefix, self.revision)

    def step(self, stop: Optional[threading.Event] = None) -> None:
        """List if needed, then watch once (what ``run`` repeats; tests call it directly)."""
        if self.needs_list:
            self.relist()
        self.watch_once(stop)

    def run(self, stop: threading.Event) -> None:
        """Until stop is set: keep the cache current; back off 1 s after an etcd error."""
        while not stop.is_set():
            try:
                self.step(stop)
            except (EtcdError, OSError, ValueError) as exc:
                LOG.warning("%s: %s", self.prefix, exc)
                stop.wait(1.0)
