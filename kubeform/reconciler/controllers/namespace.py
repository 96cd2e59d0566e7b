"""Namespace lifecycle: a namespace being deleted is Terminating until it is empty, then goes.

`kubeform delete namespace NAME` marks the Namespace (``deletionTimestamp``,
``status.phase: Terminating``, the ``kubernetes`` finalizer in ``spec.finalizers``, as
upstream). This controller then deletes everything in it as the apiserver would delete
each object (pods gracefully: their agents finish them; objects with finalizers are
marked and wait for whoever owns those), at most BATCH objects per transaction, the
changes bringing the namespace back for the next batch. When nothing is left it removes
its finalizer and, when no other finalizer holds it, the Namespace itself.

It waits for what cannot go yet: a pod on a node that stopped answering stays
Terminating (nothing confirms it stopped) until that node is deleted or the pod is
force-deleted, and the namespace stays Terminating with it, as in Kubernetes. Events in
the namespace are not waited for: they expire with their lease (kubeform.api.events).
`kubeform apply` refuses to create objects in a Terminating namespace.
"""

import copy
import datetime
from typing import Any, Dict, List

from kubeform.api import deletion, kinds

from ..machinery.actions import Action, Delete, Put
from ..machinery.cache import Change, Item
from .base import Controller, View
from .garbagecollector import BATCH, COLLECTED, deletion_actions, kind_of_key, namespace_of

Obj = Dict[str, Any]

NAMESPACES = kinds.BY_KIND["Namespace"].prefix()
CONTENTS = tuple(k for k in COLLECTED if k.namespaced)


def contents(view: View, ns: str) -> List[Item]:
    """Every object of a collected kind stored in namespace ``ns``."""
    out: List[Item] = []
    for kind in CONTENTS:
        out.extend(view.list(kind.prefix(ns)))
    return out


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None or not deletion.is_deleting(item.obj):
        return []
    ns = key[len(NAMESPACES):]
    actions: List[Action] = []
    current = item.obj
    if (current.get("status") or {}).get("phase") != "Terminating":
        current = copy.deepcopy(current)
        current.setdefault("status", {})["phase"] = "Terminating"
        actions.append(Put(key, current, item.mod_revision))
    left = contents(view, ns)
    if left:
        written = 0
        for obj in left:
            if deletion.is_deleting(obj.obj):
                continue  # already going: its agent or its finalizers' owners finish it
            if written >= BATCH:
                break
            step = deletion_actions(obj, now)
            if step:
                actions += step
                written += 1
        return actions
    spec = current.get("spec") or {}
    fins = [f for f in spec.get("finalizers") or [] if f != deletion.NAMESPACE_FINALIZER]
    if not fins and not deletion.finalizers(current):
        return [Delete(key, item.mod_revision)]
    if fins != list(spec.get("finalizers") or []):
        new = copy.deepcopy(current)
        new.setdefault("spec", {})["finalizers"] = fins
        return [Put(key, new, item.mod_revision)]
    return actions


def related(change: Change, view: View) -> List[str]:
    """A namespace's own changes, and any change inside a namespace being deleted."""
    if change.key.startswith(NAMESPACES):
        return [change.key] if change.new is not None else []
    kind = kind_of_key(change.key)
    if kind is None or not kind.namespaced:
        return []
    ns_key = NAMESPACES + namespace_of(change.key, kind)
    ns = view.get(ns_key)
    if ns is not None and deletion.is_deleting(ns.obj):
        return [ns_key]
    return []


CONTROLLER = Controller(
    name="namespace",
    primary=NAMESPACES,
    watches=tuple(k.prefix() for k in COLLECTED),
    sync=sync,
    related=related,
    workers=1,
    resync=30.0,
)
