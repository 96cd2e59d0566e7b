"""A pod's own worker thread and the snapshot it acts on.

Why: a slow image pull or a long graceful stop of one pod must never hold up another, so
every pod gets a thread that syncs the newest snapshot the runtime loop offers it, and
skips snapshots older than its own last action (the driver's list would not show it yet).
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from .driver import ContainerInfo, SandboxInfo

Obj = Dict[str, Any]

LOG = logging.getLogger("kubeform.agent.runtime")


class Snapshot(object):
    """One pass's view of one pod: the object, its mod_revision and the driver's slice."""

    def __init__(self, key: str, mod_revision: int, pod: Optional[Obj], sandbox: Optional[SandboxInfo], containers: List[ContainerInfo], taken_at: float) -> None:
        self.key = key
        self.mod_revision = mod_revision
        self.pod = pod
        self.sandbox = sandbox
        self.containers = containers
        self.taken_at = taken_at


class PodWorker(object):
    """One thread per pod: syncs the newest snapshot that is not older than its last action."""

    def __init__(self, uid: str, sync: "Callable[[str, Snapshot], bool]", stop: threading.Event, acted: threading.Event) -> None:
        """``sync(uid, snapshot)`` plans and acts (True: it did something); ``stop`` ends the
        thread; ``acted`` is set after an action (the loop lists the driver again)."""
        self.uid = uid
        self.sync = sync
        self.stop = stop
        self.acted = acted
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.latest = None  # type: Optional[Snapshot]
        self.done_at = 0.0
        self.finished = False
        self.thread = threading.Thread(target=self.run, name="pod-" + uid[:8])
        self.thread.daemon = True
        self.thread.start()

    def offer(self, snap: Snapshot) -> None:
        with self.lock:
            self.latest = snap
        self.wake.set()

    def run(self) -> None:
        while not self.stop.is_set() and not self.finished:
            self.wake.wait(1.0)
            self.wake.clear()
            with self.lock:
                snap = self.latest
                self.latest = None
            if snap is None or snap.taken_at < self.done_at:
                continue  # the driver's list predates our last action: wait for a fresh one
            try:
                acted = self.sync(self.uid, snap)
            except Exception:  # one pod's bug must never stop the agent
                LOG.exception("pod %s", self.uid)
                acted = True
            if acted:
                self.done_at = time.monotonic()
                self.acted.set()
