"""Garbage collection: what an owner owned goes when the owner goes (Kubernetes' GC).

An object's ``metadata.ownerReferences`` name its owners (kind, name, uid). For each object
the collector sorts its owners into

- *solid*: the owner exists (same uid; same namespace, or cluster-scoped) and is not
  being deleted in the foreground;
- *waiting*: it exists and is being deleted in the foreground (``deletionTimestamp`` and
  the ``foregroundDeletion`` finalizer): it waits for its dependents;
- *dangling*: no object of that kind, name and uid exists.

With a solid owner left the object stays (dangling and waiting references are dropped
from it, as upstream does); with none it is deleted: in the foreground when an owner
waits and it owns things itself (so the wait goes down the tree), else in the background.
Deleting a pod that a node runs marks it (graceful deletion, its agent finishes it);
everything else goes as kubeform.api.deletion says.

The owner side: a ``foregroundDeletion`` owner loses its finalizer once no dependent
referring to it with ``blockOwnerDeletion: true`` is left (and is then removed); an
``orphan`` owner first has its uid removed from every dependent's references.

An object being deleted whose last finalizer someone else removed (e.g. by applying it
without) is removed, as the apiserver removes it on that update (not a Namespace: the
namespace controller's; not a pod: its agent's).

Pod GC (upstream's podgc, the part that matters here): a pod bound to a node whose Node
object no longer exists is removed at once (its node cannot confirm anything any more),
and a pod being deleted that no node runs is removed.

Decisions that rest on absence (an owner, a node) carry an ``Unchanged`` guard, so etcd
checks at commit time that the absence is real, not an informer lagging behind.

The collector runs as one controller per kind (its keys under that kind's prefix), all
sharing this sync; each watches every kind, because owners and dependents can be of any.
At most BATCH objects are written per sync (etcd caps a transaction's operations); their
changes requeue the owner for the rest.
"""

import copy
import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import deletion, kinds, nodes
from kubeform.api.objects import meta

from ..machinery.actions import Action, Delete, Put, Unchanged
from ..machinery.cache import Change, Item
from .base import Controller, View

Obj = Dict[str, Any]

PODS = "/registry/pods/"
#: Objects written per sync at most (each may be a Put and a guard).
BATCH = 50
#: Kinds that are collected (Events expire on their own; Nodes are the agents').
COLLECTED = tuple(k for k in kinds.KINDS if k.kind not in ("Event", "Node"))
#: Kinds that can own (Nodes own mirror pods upstream).
OWNER_KINDS = tuple(k for k in kinds.KINDS if k.kind != "Event")
WATCHED = tuple(k.prefix() for k in OWNER_KINDS)
_BY_PREFIX = sorted(((k.prefix(), k) for k in OWNER_KINDS), key=lambda p: -len(p[0]))

SOLID = "solid"
WAITING = "waiting"
DANGLING = "dangling"


def kind_of_key(key: str) -> Optional[kinds.Kind]:
    for prefix, kind in _BY_PREFIX:
        if key.startswith(prefix):
            return kind
    return None


def namespace_of(key: str, kind: kinds.Kind) -> str:
    """The namespace segment of a namespaced key ('' for cluster-scoped kinds)."""
    if not kind.namespaced:
        return ""
    return key[len(kind.prefix()):].split("/", 1)[0]


def owner_key(ref: Obj, namespace: str) -> Optional[Tuple[str, kinds.Kind]]:
    """Where the owner a reference names lives; None for a kind kubeform does not know."""
    kind = kinds.BY_KIND.get(str(ref.get("kind") or ""))
    if kind is None or kind.kind == "Event" or not ref.get("name"):
        return None
    return kind.key(namespace or None, str(ref["name"])), kind


def waits_for_dependents(obj: Obj) -> bool:
    return deletion.is_deleting(obj) and deletion.FOREGROUND_FINALIZER in deletion.finalizers(obj)


OwnerState = Tuple[Obj, str, Optional[Item], str]


def classify(view: View, key: str, obj: Obj) -> List[OwnerState]:
    """Each owner reference of ``obj`` with its state: (ref, state, owner item, owner key).

    A reference kubeform cannot resolve (unknown kind, or a cluster-scoped object naming a
    namespaced owner, which upstream reports and never collects) counts as solid.
    """
    kind = kind_of_key(key)
    ns = namespace_of(key, kind) if kind is not None else ""
    out: List[OwnerState] = []
    for ref in meta(obj).get("ownerReferences") or []:
        if not isinstance(ref, dict):
            continue
        where = owner_key(ref, ns)
        if where is None or (where[1].namespaced and not ns):
            out.append((ref, SOLID, None, ""))
            continue
        okey = where[0]
        owner = view.get(okey)
        if owner is None or meta(owner.obj).get("uid") != ref.get("uid"):
            out.append((ref, DANGLING, owner, okey))
        elif waits_for_dependents(owner.obj):
            out.append((ref, WAITING, owner, okey))
        else:
            out.append((ref, SOLID, owner, okey))
    return out


def dependents(view: View, owner_key_: str, owner: Obj) -> List[Item]:
    """Every collected object that names ``owner`` (by uid) among its owners."""
    kind = kind_of_key(owner_key_)
    uid = meta(owner).get("uid")
    if kind is None or not uid:
        return []
    ns = namespace_of(owner_key_, kind)
    out = []
    for k in COLLECTED:
        if ns and not k.namespaced:
            continue  # a cluster-scoped object cannot have a namespaced owner
        for item in view.list(k.prefix(ns or None)):
            if any(isinstance(r, dict) and r.get("uid") == uid for r in meta(item.obj).get("ownerReferences") or []):
                out.append(item)
    return out


def _guard(state: OwnerState) -> Action:
    """The owner is still absent (or still another object of that name) at commit time."""
    _, _, owner, okey = state
    return Unchanged(okey, owner.mod_revision if owner is not None else 0)


def deletion_actions(item: Item, now: datetime.datetime, propagation: str = deletion.BACKGROUND) -> List[Action]:
    """Delete ``item`` as the apiserver would (pods gracefully), guarded by its revision."""
    decision = deletion.delete_object(item.obj, now, propagation)
    if decision.remove:
        return [Delete(item.key, item.mod_revision)]
    if decision.obj is not None:
        return [Put(item.key, decision.obj, item.mod_revision)]
    return []


def _without_refs(obj: Obj, uids: List[Any]) -> Obj:
    new = copy.deepcopy(obj)
    refs = [r for r in meta(new).get("ownerReferences") or [] if not (isinstance(r, dict) and r.get("uid") in uids)]
    if refs:
        new["metadata"]["ownerReferences"] = refs
    else:
        new["metadata"].pop("ownerReferences", None)
    return new


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    obj = item.obj
    if deletion.is_deleting(obj):
        return _deleting(item, view, now)
    if key.startswith(PODS):
        node = (obj.get("spec") or {}).get("nodeName")
        if node and view.get(nodes.NODE_PREFIX + str(node)) is None:
            # its node was removed from the cluster: nothing will ever confirm this pod
            return [Delete(key, item.mod_revision), Unchanged(nodes.NODE_PREFIX + str(node), 0)]
    states = classify(view, key, obj)
    if not states:
        return []
    if any(s[1] == SOLID for s in states):
        gone = [s[0].get("uid") for s in states if s[1] != SOLID]
        if not gone:
            return []
        guards = [_guard(s) for s in states if s[1] == DANGLING]
        return [Put(key, _without_refs(obj, gone), item.mod_revision), *guards]
    guards = [_guard(s) for s in states if s[1] == DANGLING]
    propagation = deletion.BACKGROUND
    if any(s[1] == WAITING for s in states) and dependents(view, key, obj):
        propagation = deletion.FOREGROUND
    actions = deletion_actions(item, now, propagation)
    return actions + guards if actions else []


def _deleting(item: Item, view: View, now: datetime.datetime) -> List[Action]:
    """An object being deleted: the collector's finalizers, and pods no node will finish."""
    obj = item.obj
    fins = deletion.finalizers(obj)
    if deletion.ORPHAN_FINALIZER in fins:
        return _orphan(item, view)
    if deletion.FOREGROUND_FINALIZER in fins:
        return _foreground(item, view)
    if not fins and not item.key.startswith(PODS) and obj.get("kind") != "Namespace":
        # its last finalizer was removed (by whoever owned it): the apiserver would remove it
        return [Delete(item.key, item.mod_revision)]
    if item.key.startswith(PODS) and not fins:
        node = (obj.get("spec") or {}).get("nodeName")
        if not node:
            return [Delete(item.key, item.mod_revision)]  # no agent will ever finish it
        if view.get(nodes.NODE_PREFIX + str(node)) is None:
            return [Delete(item.key, item.mod_revision), Unchanged(nodes.NODE_PREFIX + str(node), 0)]
    return []


def _finish(item: Item, finalizer: str) -> List[Action]:
    decision = deletion.without_finalizer(item.obj, finalizer)
    if decision.remove:
        return [Delete(item.key, item.mod_revision)]
    if decision.obj is not None:
        return [Put(item.key, decision.obj, item.mod_revision)]
    return []


def _orphan(item: Item, view: View) -> List[Action]:
    """Release every dependent (drop this owner's reference), then drop the finalizer."""
    uid = meta(item.obj).get("uid")
    deps = dependents(view, item.key, item.obj)
    actions: List[Action] = [Put(d.key, _without_refs(d.obj, [uid]), d.mod_revision) for d in deps[:BATCH]]
    if len(deps) <= BATCH:
        actions += _finish(item, deletion.ORPHAN_FINALIZER)
    return actions


def _foreground(item: Item, view: View) -> List[Action]:
    """Wait until no dependent blocks (their own syncs delete them), then drop the finalizer."""
    uid = meta(item.obj).get("uid")
    for dep in dependents(view, item.key, item.obj):
        for ref in meta(dep.obj).get("ownerReferences") or []:
            if isinstance(ref, dict) and ref.get("uid") == uid and ref.get("blockOwnerDeletion"):
                return []
    return _finish(item, deletion.FOREGROUND_FINALIZER)


def related(primary_kind: kinds.Kind) -> Any:
    """The keys of ``primary_kind`` to sync again after a change anywhere the collector watches."""
    primary = primary_kind.prefix()

    def keys(change: Change, view: View) -> List[str]:
        out: List[str] = []
        if change.key.startswith(primary) and change.new is not None:
            out.append(change.key)
        old = change.old.obj if change.old is not None else None
        new = change.new.obj if change.new is not None else None
        # an owner went, or started a foreground/orphan deletion: its dependents decide again
        if old is not None and (new is None or (deletion.is_deleting(new) and deletion.finalizers(new))):
            uid = meta(old).get("uid")
            if uid:
                kind = kind_of_key(change.key)
                ns = namespace_of(change.key, kind) if kind is not None else ""
                if not (ns and not primary_kind.namespaced):  # no cluster-scoped dependent of a namespaced owner
                    for item in view.list(primary + ns + "/" if ns else primary):
                        refs = meta(item.obj).get("ownerReferences") or []
                        if any(isinstance(r, dict) and r.get("uid") == uid for r in refs):
                            out.append(item.key)
        # a dependent changed or went: owners waiting on it (foreground/orphan) look again
        seen = set()
        for obj in (old, new):
            if obj is None:
                continue
            kind = kind_of_key(change.key)
            ns = namespace_of(change.key, kind) if kind is not None else ""
            for ref in meta(obj).get("ownerReferences") or []:
                where = owner_key(ref, ns) if isinstance(ref, dict) else None
                if where is None or not where[0].startswith(primary) or where[0] in seen:
                    continue
                seen.add(where[0])
                owner = view.get(where[0])
                if owner is not None and deletion.is_deleting(owner.obj):
                    out.append(where[0])
        # a node was removed: the pods bound to it go
        if primary == PODS and change.key.startswith(nodes.NODE_PREFIX) and new is None:
            name = change.key[len(nodes.NODE_PREFIX):]
            out += [i.key for i in view.list(PODS) if (i.obj.get("spec") or {}).get("nodeName") == name]
        return sorted(set(out))

    return keys


def controller(kind: kinds.Kind) -> Controller:
    prefix = kind.prefix()
    return Controller(
        name="garbagecollector-" + kind.resource,
        primary=prefix,
        watches=WATCHED,
        sync=sync,
        related=related(kind),
        workers=1,
        resync=30.0,
    )


CONTROLLERS = [controller(k) for k in COLLECTED]
