"""Scheduling: pods without spec.nodeName are bound to a node, or told why they cannot be.

A pod the scheduler places gets ``spec.nodeName``, condition PodScheduled=True and a
Normal ``Scheduled`` event ("Successfully assigned ns/pod to node"). A pod that fits
nowhere stays Pending with PodScheduled=False, reason Unschedulable and the scheduler's
message ("0/3 nodes are available: ..."), plus a Warning ``FailedScheduling`` event; as
long as the message does not change nothing more is written (no event storm on retries).

Retried level-triggered: any Node change, a node's heartbeat lease appearing or going,
and any change of a pod that loads a node (bound, not finished) requeues every pending
pod; the periodic resync catches the rest. Bind and event go in one transaction on the
pod's mod_revision, so a pod changed meanwhile is decided again, never bound twice. One
worker: each decision must see the previous binding (the writer puts it in the cache).
"""

import copy
import datetime
from typing import Any, Dict, List, Optional

from kubeform.api import events, nodes
from kubeform.api.objects import condition, namespaced_name, set_condition

from ..machinery.actions import Action, CreateEvent, Put
from ..machinery.cache import Change, Item
from ..scheduler import Decision, Snapshot, loads_node, needs_scheduling
from .base import Controller, View

Obj = Dict[str, Any]

PODS = "/registry/pods/"
COMPONENT = "default-scheduler"


def node_views(view: View, now: datetime.datetime) -> List[Obj]:
    """Every registered Node, Ready derived from its heartbeat lease at ``now``."""
    leases = {i.key[len(nodes.LEASE_PREFIX):]: i.obj for i in view.list(nodes.LEASE_PREFIX)}
    out = []
    for item in view.list(nodes.NODE_PREFIX):
        name = item.key[len(nodes.NODE_PREFIX):]
        node = dict(item.obj)
        meta = dict(node.get("metadata") or {})
        meta.setdefault("name", name)
        node["metadata"] = meta
        out.append(nodes.node_view(node, leases.get(name), now))
    return out


def pending_keys(view: View) -> List[str]:
    return [i.key for i in view.list(PODS) if needs_scheduling(i.obj)]


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None or not needs_scheduling(item.obj):
        return []
    snapshot = Snapshot(node_views(view, now), [i.obj for i in view.list(PODS)])
    decision = snapshot.schedule(item.obj)
    stamp = events.rfc3339(now)
    if decision.node:
        return bind(item, decision.node, stamp)
    return unschedulable(item, decision, stamp)


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
    return pending_keys(view)  # a Node changed (labels, taints, capacity, new node)


CONTROLLER = Controller(
    name="scheduling",
    primary=PODS,
    watches=(PODS, nodes.NODE_PREFIX, nodes.LEASE_PREFIX),
    sync=sync,
    related=related,
    workers=1,
)
