"""A small JSON table per pod, kept in the pod's state directory and cached in memory.

Why: what the agent must still know about a pod's containers after kill -9 or a reboot
(which spec each container was started from, which lifecycle hooks have run) is written
beside the pod's state and read back the first time a restarted agent asks. One class
holds the reading, the atomic write-through and the forgetting; each record kind says
only its file name and how to read a loaded table.
"""

import json
import logging
import os
import threading
from typing import Any, Callable, Dict, Generic, TypeVar

from . import volumes

LOG = logging.getLogger("kubeform.agent.runtime")

T = TypeVar("T")


class PodTables(Generic[T]):
    """pod uid -> table ``T``, read from ``<pod dir>/<file_name>`` once, written through."""

    def __init__(self, state_dir: str, file_name: str, parse: Callable[[Any], T], what: str) -> None:
        self.state_dir = state_dir
        self.file_name = file_name
        self.parse = parse  # a loaded JSON value (or None: no file) -> a table
        self.what = what  # for the log line of a failed write
        self.lock = threading.RLock()
        self.tables = {}  # type: Dict[str, T]

    def path(self, uid: str) -> str:
        return os.path.join(volumes.pod_dir(self.state_dir, uid), self.file_name)

    def table(self, uid: str) -> T:
        """The pod's cached table (read from disk the first time: a restarted agent still
        knows it); callers copy before they change it."""
        with self.lock:
            known = self.tables.get(uid)
            if known is None:
                try:
                    with open(self.path(uid)) as f:
                        loaded = json.load(f)
                except (OSError, ValueError):
                    loaded = None
                known = self.parse(loaded)
                self.tables[uid] = known
            return known

    def write(self, uid: str, table: T, durable: bool = False) -> None:
        """Cache ``table`` and replace the pod's file with it (atomically; ``durable``:
        on disk before returning)."""
        with self.lock:
            self.tables[uid] = table
            try:
                os.makedirs(volumes.pod_dir(self.state_dir, uid), exist_ok=True)
                tmp = self.path(uid) + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(table, f, sort_keys=True)
                    if durable:
                        f.flush()
                        os.fsync(f.fileno())
                os.rename(tmp, self.path(uid))
            except OSError as exc:
                LOG.warning("recording %s of %s: %s", self.what, uid, exc)

    def forget(self, uid: str) -> None:
        """Drop the pod's table from memory (its file stays for a restarted agent)."""
        with self.lock:
            self.tables.pop(uid, None)

    def drop(self, uid: str) -> None:
        """The pod is gone: drop its table and its file."""
        self.forget(uid)
        try:
            os.unlink(self.path(uid))
        except OSError:
            pass
