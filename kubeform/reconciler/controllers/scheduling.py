"""Scheduling: pods without spec.nodeName are bound to a node, or told why they cannot be.

A pod the scheduler places gets ``spec.nodeName``, condition PodScheduled=True and a
Normal ``Scheduled`` event ("Successfully assigned ns/pod to node"). A pod that fits
nowhere stays Pending with PodScheduled=False, reason Unschedulable and the scheduler's
message ("0/3 nodes are available: ..."), plus a Warning ``FailedScheduling`` event; as
long as the message does not change nothing more is written (no event storm on retries).

Persistent volumes (scheduler/volumes.py): a pod goes only where its bound claims'
volumes are; a claim of a WaitForFirstConsumer class not yet bound gets the chosen node
(annotation volume.kubernetes.io/selected-node) in the binding's transaction, guarded by
the claim's mod_revision, and the provisioner makes its volume there. A claim that
cannot be used (missing, unbound of an Immediate class) keeps the pod Pending with the
reason in its message.

Retried level-triggered: any Node change, a claim, volume or class change, a node's heartbeat lease appearing or going,
and any change of a pod that loads a node (bound, not finished) requeues every pending
pod; the periodic resync catches the rest. Bind and event go in one transaction on the
pod's mod_revision, so a pod changed meanwhile is decided again, never bound twice. One
worker: each decision must see the previous binding (the writer puts it in the cache).

The scheduler's Snapshot of nodes and their load is not rebuilt from every pod for every
decision (1 s per decision with 10,000 pods on 1,000 nodes): it is kept per cache and
brought up to date from the cache's change log (pods in and out of nodes), rebuilt when a
Node or a heartbeat lease appears or goes, and every REBUILD_SECONDS because readiness
also depends on ``now``. The result is the same as a fresh build (tests compare both).
"""

import copy
import datetime
import threading
import weakref
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import events, nodes
from kubeform.api.objects import condition, namespaced_name, set_condition

from ..machinery.actions import Action, CreateEvent, Put
from ..machinery.cache import Change, Item
from ..scheduler import Decision, Snapshot, loads_node, needs_scheduling
from ..scheduler import volumes as volumecheck
from . import localvolumes
from .base import Controller, View

Obj = Dict[str, Any]

PODS = "/registry/pods/"
CLAIMS = localvolumes.CLAIMS
VOLUMES = localvolumes.VOLUMES
CLASSES = localvolumes.CLASSES
COMPONENT = "default-scheduler"
#: A kept Snapshot older than this is built again (node readiness depends on the time).
REBUILD_SECONDS = 10.0


def node_views(view: View, now: datetime.datetime) -> List[Obj]:
    """Every registered Node, Ready derived from its heartbeat lease at ``now``."""
    return _node_views(view.list(nodes.LEASE_PREFIX), view.list(nodes.NODE_PREFIX), now)


def _node_views(leases: List[Item], node_items: List[Item], now: datetime.datetime) -> List[Obj]:
    by_name = {i.key[len(nodes.LEASE_PREFIX):]: i.obj for i in leases}
    out = []
    for item in node_items:
        name = item.key[len(nodes.NODE_PREFIX):]
        node = dict(item.obj)
        meta = dict(node.get("metadata") or {})
        meta.setdefault("name", name)
        node["metadata"] = meta
        out.append(nodes.node_view(node, by_name.get(name), now))
    return out


def pending_keys(view: View) -> List[str]:
    return [i.key for i in view.list(PODS) if needs_scheduling(i.obj)]


def build_snapshot(view: View, now: datetime.datetime) -> Tuple[int, Snapshot]:
    """A fresh Snapshot of every node and pod in the view, and the cache generation it saw."""
    lists = getattr(view, "lists", None)
    if lists is None:
        return -1, Snapshot(node_views(view, now), [i.obj for i in view.list(PODS)])
    generation, (leases, node_items, pods) = lists([nodes.LEASE_PREFIX, nodes.NODE_PREFIX, PODS])
    return generation, Snapshot(_node_views(leases, node_items, now), [i.obj for i in pods])


def catch_up(snapshot: Snapshot, changes: List[Change]) -> bool:
    """Apply cache changes to a kept Snapshot; False when only a rebuild will do."""
    for change in changes:
        if change.key.startswith(PODS):
            if change.old is not None:
                snapshot.forget(change.old.obj)
            if change.new is not None:
                snapshot.observe(change.new.obj)
        elif change.key.startswith(nodes.LEASE_PREFIX):
            if change.old is None or change.new is None:
                return False  # a node turned Ready or not
        elif change.key.startswith(nodes.NODE_PREFIX):
            return False
    return True


class _Kept(object):
    """A Snapshot kept for one cache: the generation it reflects and when it was built."""

    def __init__(self, generation: int, built: datetime.datetime, snapshot: Snapshot) -> None:
        self.generation = generation
        self.built = built
        self.snapshot = snapshot


_KEPT: "weakref.WeakKeyDictionary[Any, _Kept]" = weakref.WeakKeyDictionary()
_KEPT_LOCK = threading.Lock()


def volume_check(view: View, pod: Obj) -> volumecheck.VolumeCheck:
    """The pod's persistent volume constraints, read from the view."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"

    def claim(name: str) -> Optional[Obj]:
        item = view.get("%s%s/%s" % (CLAIMS, namespace, name))
        return None if item is None else dict(item.obj)

    def volume(name: str) -> Optional[Obj]:
        item = view.get(VOLUMES + name)
        return None if item is None else dict(item.obj)

    def binding_mode(name: str) -> Optional[str]:
        sc = localvolumes.storage_class(view, name) if name else None
        return None if sc is None else str(sc.get("volumeBindingMode") or "Immediate")

    return volumecheck.check(pod, claim, volume, binding_mode)


def decide(view: View, pod: Obj, now: datetime.datetime, volumes: Optional[volumecheck.VolumeCheck] = None) -> Decision:
    """The scheduler's decision for ``pod`` on the view at ``now`` (a kept Snapshot when the
    view keeps a change log, else a fresh one)."""
    if not hasattr(view, "changes_since"):
        return build_snapshot(view, now)[1].schedule(pod, volumes)
    with _KEPT_LOCK:
        kept = _KEPT.get(view)
        if kept is not None and 0 <= (now - kept.built).total_seconds() < REBUILD_SECONDS:
            generation, changes = view.changes_since(kept.generation)
            if changes is not None and catch_up(kept.snapshot, changes):
                kept.generation = generation
            else:
                kept = None
        else:
            kept = None
        if kept is None:
            generation, snapshot = build_snapshot(view, now)
            kept = _Kept(generation, now, snapshot)
            _KEPT[view] = kept
        return kept.snapshot.schedule(pod, volumes)


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None or not needs_scheduling(item.obj):
        return []
    volumes = volume_check(view, item.obj)
    decision = decide(view, item.obj, now, volumes)
    stamp = events.rfc3339(now)
    if decision.node:
        return bind(item, decision.node, stamp) + select_node(view, item.obj, volumes, decision.node)
    return unschedulable(item, decision, stamp)


def select_node(view: View, pod: Obj, volumes: volumecheck.VolumeCheck, node: str) -> List[Action]:
    """The pod's unbound WaitForFirstConsumer claims get the chosen node (same transaction)."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    out: List[Action] = []
    for name in volumes.select:
        item = view.get("%s%s/%s" % (CLAIMS, namespace, name))
        if item is None:
            continue
        claim = copy.deepcopy(item.obj)
        claim.setdefault("metadata", {}).setdefault("annotations", {})[volumecheck.SELECTED_NODE] = node
        out.append(Put(item.key, claim, item.mod_revision))
    return out


def bind(item: Item, node: str, stamp: str) -> List[Action]:
    pod = copy.deepcopy(item.obj)
    pod.setdefault("spec", {})["nodeName"] = node
    status = pod.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status["conditions"] = set_condition(
        status.get("conditions") or [],
        {"type": "PodScheduled", "status": "True", "lastProbeTime": None},
        stamp,
    )
    message = "Successfully assigned %s to %s" % (namespaced_name(pod), node)
    return [
        Put(item.key, pod, item.mod_revision),
        CreateEvent(pod, "Scheduled", message, events.NORMAL, COMPONENT),
    ]


def unschedulable(item: Item, decision: Decision, stamp: str) -> List[Action]:
    reason = decision.reason or "Unschedulable"
    current: Optional[Obj] = condition(item.obj, "PodScheduled")
    if (
        current is not None
        and current.get("status") == "False"
        and current.get("reason") == reason
        and current.get("message") == decision.message
    ):
        return []  # already says so: no write, no second event
    pod = copy.deepcopy(item.obj)
    status = pod.setdefault("status", {})
    status["phase"] = "Pending"
    status["conditions"] = set_condition(
        status.get("conditions") or [],
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": reason,
            "message": decision.message,
            "lastProbeTime": None,
        },
        stamp,
    )
    return [
        Put(item.key, pod, item.mod_revision),
        CreateEvent(pod, "FailedScheduling", decision.message, events.WARNING, COMPONENT),
    ]


def related(change: Change, view: View) -> List[str]:
    """Which pods to decide again after ``change``."""
    if change.key.startswith(PODS):
        keys = [change.key]
        if any(i is not None and loads_node(i.obj) for i in (change.old, change.new)):
            keys += pending_keys(view)  # a node's load changed
        return keys
    if change.key.startswith(nodes.LEASE_PREFIX):
        if change.old is not None and change.new is not None:
            return []  # a renewal: readiness did not change (resync covers a stale renewTime)
        return pending_keys(view)
    return pending_keys(view)  # a Node, claim, volume or class changed


CONTROLLER = Controller(
    name="scheduling",
    primary=PODS,
    watches=(PODS, nodes.NODE_PREFIX, nodes.LEASE_PREFIX, CLAIMS, VOLUMES, CLASSES),
    sync=sync,
    related=related,
    workers=1,
)
