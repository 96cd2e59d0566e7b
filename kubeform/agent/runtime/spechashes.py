"""Which container spec each running container was started from, per pod, kept on disk.

Why: a container whose spec changed in the pod must be restarted (the kubelet compares a
hash of the container's spec), and the agent must still know the hash after kill -9 or a
reboot, so the table is written beside the pod's state (container id -> spec hash).
"""

import json
import logging
import os
import threading
from typing import Dict, List

from . import volumes

LOG = logging.getLogger("kubeform.agent.runtime")


class SpecHashes(object):
    """container id -> spec hash for every pod of this node, cached in memory."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self.tables = {}  # type: Dict[str, Dict[str, str]]

    def path(self, uid: str) -> str:
        return os.path.join(volumes.pod_dir(self.state_dir, uid), "container-hashes.json")

    def of(self, uid: str) -> Dict[str, str]:
        """The pod's table (read from disk the first time: a restarted agent still knows it)."""
        with self.lock:
            known = self.tables.get(uid)
            if known is None:
                try:
                    with open(self.path(uid)) as f:
                        loaded = json.load(f)
                    known = {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
                except (OSError, ValueError):
                    known = {}
                self.tables[uid] = known
            return dict(known)

    def remember(self, uid: str, container_id: str, digest: str, live: List[str]) -> None:
        """Record a started container's hash; entries of containers not in ``live`` go."""
        with self.lock:
            table = {k: v for k, v in self.of(uid).items() if k in live}
            table[container_id] = digest
            self.tables[uid] = table
        try:
            os.makedirs(volumes.pod_dir(self.state_dir, uid), exist_ok=True)
            tmp = self.path(uid) + ".tmp"
            with open(tmp, "w") as f:
                json.dump(table, f)
            os.rename(tmp, self.path(uid))
        except OSError as exc:
            LOG.warning("recording container hashes of %s: %s", uid, exc)

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
