"""A pod waits while a namesake's containers are still on its node: one name, one pod running.

Why: a pod's name is its identity for a StatefulSet (its hostname, its claim, its data).
When a node is cut off and the operator force-deletes such a pod, the controller creates a
new pod of the same name at once, bound to the same node when its local volume is there.
The node's agent, back on the network, sees in one list both the old pod's containers (a
pod the API no longer has: removed, with a stop grace) and the new pod bound to it; each is
handled by its own worker, so without this the new one starts while the old one still
runs on the same volume. The kubelet holds a static pod the same way until its namesake
has terminated; here it holds every pod: a namesake that is still running is never
something a user wants twice.

The names of the leftovers come from a record the manager keeps in each pod's directory
(``pod-name``: ``namespace/name``), written before anything of the pod is started, since a
driver's listing carries only the pod's uid. A leftover without that record (made by an
older agent) holds nothing back.
"""

import logging
import os
import threading
from typing import Any, Dict, Mapping, Optional

from . import volumes

RECORD = "pod-name"

LOG = logging.getLogger("kubeform.agent.runtime")


def full_name(pod: Mapping[str, object]) -> str:
    """``namespace/name`` of a pod object ("" without a name)."""
    meta = pod.get("metadata") or {}
    if not isinstance(meta, dict) or not meta.get("name"):
        return ""
    return "%s/%s" % (meta.get("namespace") or "default", meta["name"])


def waiting(bound: Mapping[str, str], leftovers: Mapping[str, str]) -> Dict[str, str]:
    """Which pods bound here must not act yet, each with the leftover it waits for.

    bound: uid -> full name of every pod bound to this node.
    leftovers: uid -> full name ("" unknown) of every pod not bound here whose sandbox or a
    running container is still on this node.
    Returns uid of a bound pod -> uid of the leftover of the same name (the smallest uid
    when several, so the answer does not depend on dict order)."""
    by_name = {}  # type: Dict[str, str]
    for uid in sorted(leftovers):
        name = leftovers[uid]
        if name and uid not in bound:
            by_name.setdefault(name, uid)
    return {uid: by_name[name] for uid, name in bound.items() if name in by_name}


def record_path(state_dir: str, uid: str) -> str:
    return os.path.join(volumes.pod_dir(state_dir, uid), RECORD)


def write_record(state_dir: str, uid: str, name: str) -> None:
    """Keep the pod's name beside its files (atomic: a torn record would hold nothing)."""
    path = record_path(state_dir, uid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(name)
    os.rename(tmp, path)


def read_record(state_dir: str, uid: str) -> Optional[str]:
    """The recorded name, or None when there is none (yet, or any more)."""
    try:
        with open(record_path(state_dir, uid)) as f:
            return f.read().strip()
    except OSError:
        return None


def drop_record(state_dir: str, uid: str) -> None:
    """Before the pod's directory goes (it is removed only when empty)."""
    try:
        os.unlink(record_path(state_dir, uid))
    except OSError:
        pass


class PodNames(object):
    """The records of this node's pods, cached in memory (read back after a restart)."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.lock = threading.Lock()
        self.cache = {}  # type: Dict[str, str]  # pod uid -> namespace/name

    def of(self, uid: str) -> str:
        """The pod's recorded name ("" when it has none)."""
        with self.lock:
            known = self.cache.get(uid)
        if known is None:
            known = read_record(self.state_dir, uid)
            if known is not None:
                with self.lock:
                    self.cache[uid] = known
        return known or ""

    def remember(self, uid: str, pod: Mapping[str, Any]) -> None:
        """The pod's name in its directory, before anything of it starts."""
        name = full_name(pod)
        with self.lock:
            if not name or self.cache.get(uid) == name:
                return
        try:
            write_record(self.state_dir, uid, name)
        except OSError as exc:
            LOG.warning("recording the name of pod %s (%s): %s", name, uid, exc)
            return
        with self.lock:
            self.cache[uid] = name

    def forget(self, uid: str) -> None:
        """Drop the name from memory (the record stays for a restarted agent)."""
        with self.lock:
            self.cache.pop(uid, None)

    def drop(self, uid: str) -> None:
        """The pod is gone: memory and record."""
        self.forget(uid)
        drop_record(self.state_dir, uid)
