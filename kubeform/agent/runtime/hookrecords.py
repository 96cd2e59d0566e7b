"""Which lifecycle hooks of which container have run, per pod, kept on disk.

Why: a hook must run at most once per container, as the kubelet runs it, also when the
agent is killed (kill -9, a reboot of the agent alone) in the middle: the record is
written before the hook starts and read back by a restarted agent. postStart goes
``pending`` (the container started, its hook not yet begun: a restarted agent runs it),
``begun`` (never again, whatever happened), ``done``; preStop goes ``begun`` once.
"""

import json
import logging
import os
import threading
from typing import Dict, Iterable

from . import volumes

LOG = logging.getLogger("kubeform.agent.runtime")

PENDING = "pending"
BEGUN = "begun"
DONE = "done"

#: container id -> hook (postStart, preStop) -> state
Table = Dict[str, Dict[str, str]]


class HookRecords(object):
    """The hook states of every pod of this node, cached in memory, written through."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self.tables = {}  # type: Dict[str, Table]

    def path(self, uid: str) -> str:
        return os.path.join(volumes.pod_dir(self.state_dir, uid), "container-hooks.json")

    def of(self, uid: str) -> Table:
        """The pod's table (read from disk the first time: a restarted agent still knows it)."""
        with self.lock:
            known = self.tables.get(uid)
            if known is None:
                known = {}
                try:
                    with open(self.path(uid)) as f:
                        loaded = json.load(f)
                    if isinstance(loaded, dict):
                        for cid, hooks in loaded.items():
                            if isinstance(hooks, dict):
                                known[str(cid)] = {str(k): str(v) for k, v in hooks.items()}
                except (OSError, ValueError):
                    pass
                self.tables[uid] = known
            return {cid: dict(hooks) for cid, hooks in known.items()}

    def state(self, uid: str, container_id: str, hook: str) -> str:
        return self.of(uid).get(container_id, {}).get(hook, "")

    def mark(self, uid: str, container_id: str, hook: str, state: str, live: Iterable[str] = ()) -> None:
        """Record a hook's state (on disk before returning); containers neither ``live``
        nor this one are dropped from the table."""
        keep = set(live) | {container_id}
        with self.lock:
            table = {cid: hooks for cid, hooks in self.of(uid).items() if cid in keep}
            table.setdefault(container_id, {})[hook] = state
            self.tables[uid] = table
            try:
                os.makedirs(volumes.pod_dir(self.state_dir, uid), exist_ok=True)
                tmp = self.path(uid) + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(table, f, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                os.rename(tmp, self.path(uid))
            except OSError as exc:
                LOG.warning("recording lifecycle hooks of %s: %s", uid, exc)

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
