"""ReplicaSet and ReplicationController: keep ``spec.replicas`` pods matching the selector.

One decision serves both kinds (Kubernetes runs one controller for both too); they differ
only in the selector (an RS has matchLabels/matchExpressions, an RC a plain map) and the
component name on events. A sync, as Kubernetes' syncReplicaSet:

1. claim (podcontrol.claim): the active pods of the namespace this owner controls,
   adopting matching orphans and releasing pods whose labels stopped matching;
2. unless the owner is being deleted, create the missing pods from the template or
   gracefully delete the surplus (podcontrol.deletion_order picks which), at most
   ``BURST`` per sync so a transaction stays well under etcd's 128 operations
   (one event per pod, as upstream: SuccessfulCreate / SuccessfulDelete);
3. write the status (replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
   honouring minReadySeconds, observedGeneration, the ReplicaFailure condition) as
   counted from the claimed pods before this sync's creates and deletes, as upstream.

Never twice: the writer puts what it stored into the cache, so the next sync counts the
pods this one created. A transaction whose outcome was lost (etcd applied it, the answer
never came) cannot be repeated either: every transaction that creates or deletes pods
also writes the owner, guarded by its mod_revision (the status, or the same object as a
fence), so a repeat decided on the stale cache is refused and decided again once the
watch has brought the pods. New pods are named ``<owner>-<5 characters>`` from a hash of
the owner's uid, its mod_revision and the pod's index (pure; the writer creates only if
the name is still free), so the event can name the pod in the same transaction.

When etcd refuses a transaction that creates pods, ``failed`` sets ReplicaFailure=True
(reason FailedCreate) and records a FailedCreate event; the next successful sync drops
the condition. ``wake`` queues the owner again when a ready pod becomes available
(minReadySeconds).
"""

import datetime
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from kubeform.api import events
from kubeform.api.kinds import BY_KIND
from kubeform.api.objects import (
    SAFE_ALPHABET,
    fnv32a,
    meta,
    pod_is_available,
    pod_is_ready,
    ready_since,
    set_condition,
)
from kubeform.api.selectors import Selector, from_label_selector, from_map, matches
from kubeform.errors import UserError

from .. import podcontrol
from ..machinery.actions import Action, Create, CreateEvent, Delete, Put
from ..machinery.cache import Change, Item
from .base import Controller, View

Obj = Dict[str, Any]

RS_PREFIX = BY_KIND["ReplicaSet"].prefix()
RC_PREFIX = BY_KIND["ReplicationController"].prefix()
PODS = podcontrol.PODS
#: Pods created or deleted per sync: with one event each and the status, a transaction
#: stays under etcd's default --max-txn-ops of 128.
BURST = 50
#: Kubernetes truncates a generateName base to this many characters.
MAX_BASE = 58
COMPONENTS = {"ReplicaSet": "replicaset-controller", "ReplicationController": "replication-controller"}


def selector_of(owner: Obj) -> Optional[Selector]:
    """The owner's pod selector; None when it has none or it is not valid (selects nothing)."""
    sel = (owner.get("spec") or {}).get("selector")
    if not sel:
        return None
    try:
        if owner.get("kind") == "ReplicationController":
            return from_map(sel)
        parsed = from_label_selector(sel)
    except (UserError, AttributeError, TypeError):
        return None
    return parsed or None  # an empty LabelSelector is refused by validation: select nothing


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def desired(owner: Obj) -> int:
    spec = owner.get("spec") or {}
    return max(0, _int(spec.get("replicas"), 1))


def min_ready(owner: Obj) -> int:
    return max(0, _int((owner.get("spec") or {}).get("minReadySeconds")))


def _deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def namespace_pods(view: View, owner: Obj) -> List[Item]:
    return list(view.list("%s%s/" % (PODS, meta(owner).get("namespace") or "default")))


def claimed(owner: Obj, view: View) -> Tuple[List[Item], List[Action], List[Item]]:
    """(the active pods the owner controls, the claim's Puts, every pod of the namespace)."""
    sel = selector_of(owner)
    pods = namespace_pods(view, owner)
    if sel is None:
        return [], [], pods
    active = [p for p in pods if podcontrol.is_active(p.obj)]
    selector = sel  # bound for the closure (mypy)
    owned, actions = podcontrol.claim(owner, lambda pod: matches(selector, meta(pod).get("labels")), active)
    return owned, actions, pods


def pod_name(owner: Obj, owner_revision: int, index: int, taken: Set[str]) -> str:
    """A free name ``<owner>-xxxxx`` for the ``index``-th new pod of this decision."""
    base = str(meta(owner).get("name", ""))[:MAX_BASE] + "-"
    uid = str(meta(owner).get("uid", ""))
    attempt = 0
    while True:
        h = fnv32a(("%s/%d/%d/%d" % (uid, owner_revision, index, attempt)).encode("utf-8"))
        suffix = ""
        for _ in range(5):
            suffix += SAFE_ALPHABET[h % len(SAFE_ALPHABET)]
            h //= len(SAFE_ALPHABET)
        name = base + suffix
        if name not in taken:
            return name
        attempt += 1


def manage(item: Item, owned: List[Item], all_pods: List[Item], now: datetime.datetime, budget: int) -> List[Action]:
    """Creates or graceful deletes (with their events) that move ``owned`` to the desired count."""
    owner = item.obj
    component = COMPONENTS.get(str(owner.get("kind")), "replicaset-controller")
    diff = len(owned) - desired(owner)
    out: List[Action] = []
    if diff < 0:
        template = (owner.get("spec") or {}).get("template") or {}
        taken = set(str(meta(p.obj).get("name", "")) for p in all_pods)
        for index in range(min(-diff, budget)):
            name = pod_name(owner, item.mod_revision, index, taken)
            taken.add(name)
            pod = podcontrol.pod_from_template(owner, template, name=name)
            pod["metadata"]["generateName"] = str(meta(owner).get("name", ""))[:MAX_BASE] + "-"
            out.append(podcontrol.create_pod(pod))
            out.append(CreateEvent(owner, "SuccessfulCreate", "Created pod: %s" % name, events.NORMAL, component))
    elif diff > 0:
        for pod_item in podcontrol.deletion_order(owned, now)[: min(diff, budget)]:
            action = podcontrol.delete_pod(pod_item, now)
            if action is None:
                continue
            out.append(action)
            name = meta(pod_item.obj).get("name", "")
            out.append(CreateEvent(owner, "SuccessfulDelete", "Deleted pod: %s" % name, events.NORMAL, component))
    return out


def calculate_status(owner: Obj, owned: List[Item], now: datetime.datetime, failure: Optional[str] = None) -> Obj:
    """The status Kubernetes' calculateStatus writes, from the claimed active pods."""
    template_labels = ((owner.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    fully = ready = available = 0
    for p in owned:
        labels = meta(p.obj).get("labels") or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully += 1
        if pod_is_ready(p.obj):
            ready += 1
            if pod_is_available(p.obj, min_ready(owner), now):
                available += 1
    old = owner.get("status") or {}
    status: Obj = {
        "replicas": len(owned),
        "fullyLabeledReplicas": fully,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": _int(meta(owner).get("generation"), 1),
    }
    conditions = [c for c in old.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
    if failure is not None:
        conditions = set_condition(
            old.get("conditions") or [],
            {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": failure},
            events.rfc3339(now),
        )
    if conditions:
        status["conditions"] = conditions
    return status


def _same_status(a: Obj, b: Obj) -> bool:
    """Equal as Kubernetes compares (zero counts may be omitted in a stored status)."""
    keys = set(a) | set(b)
    return all((a.get(k) or 0) == (b.get(k) or 0) if k != "conditions" else (a.get(k) or []) == (b.get(k) or []) for k in keys)


def with_status(owner: Obj, status: Obj) -> Obj:
    out = dict(owner)
    out["status"] = status
    return out


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    owner = item.obj
    owned, actions, all_pods = claimed(owner, view)
    del actions[BURST * 2:]  # a big adoption goes over several syncs (each write requeues)
    budget = BURST * 2 - len(actions)
    if not _deleting(owner) and budget > 0 and selector_of(owner) is not None:
        managed = manage(item, owned, all_pods, now, min(BURST, budget // 2))
    else:
        managed = []
    actions.extend(managed)
    status = calculate_status(owner, owned, now)
    touches_pods = any(isinstance(a, (Create, Delete)) or (isinstance(a, Put) and a.key.startswith(PODS)) for a in managed)
    if not _same_status(status, owner.get("status") or {}):
        actions.append(Put(key, with_status(owner, status), item.mod_revision))
    elif touches_pods:
        actions.append(Put(key, owner, item.mod_revision))  # the fence (see the module doc)
    return actions


def failed(key: str, view: View, now: datetime.datetime, error: str) -> List[Action]:
    """ReplicaFailure=True (FailedCreate) and a Warning event, once per distinct error."""
    item = view.get(key)
    if item is None:
        return []
    owner = item.obj
    owned = claimed(owner, view)[0]
    status = calculate_status(owner, owned, now, failure=error)
    if _same_status(status, owner.get("status") or {}):
        return []
    component = COMPONENTS.get(str(owner.get("kind")), "replicaset-controller")
    return [
        Put(key, with_status(owner, status), item.mod_revision),
        CreateEvent(owner, "FailedCreate", "Error creating: %s" % error, events.WARNING, component),
    ]


def wake(key: str, view: View, now: datetime.datetime) -> Optional[float]:
    """Seconds until the next of its ready pods becomes available (minReadySeconds)."""
    item = view.get(key)
    if item is None or min_ready(item.obj) == 0:
        return None
    soonest: Optional[float] = None
    for p in claimed(item.obj, view)[0]:
        if not pod_is_ready(p.obj) or pod_is_available(p.obj, min_ready(item.obj), now):
            continue
        since = ready_since(p.obj)
        left = float(min_ready(item.obj)) if since is None else min_ready(item.obj) - (now - since).total_seconds()
        soonest = left if soonest is None else min(soonest, left)
    return None if soonest is None else max(soonest, 0.0) + 0.5


def owners_of_pod(prefix: str, kind: str) -> Callable[[Change, View], List[str]]:
    """``related`` for ``kind``: a change of an owner syncs it; a pod change syncs its
    controller (old and new: a released pod tells its old owner) and, for an orphan, every
    owner in its namespace whose selector matches it (to adopt it)."""

    def related(change: Change, view: View) -> List[str]:
        if change.key.startswith(prefix):
            return [change.key]
        keys: List[str] = []
        for side in (change.old, change.new):
            if side is None:
                continue
            pod = side.obj
            ns = meta(pod).get("namespace") or change.key[len(PODS):].split("/", 1)[0]
            refs = [r for r in meta(pod).get("ownerReferences") or [] if r.get("controller")]
            if refs:
                if refs[0].get("kind") == kind:
                    key = "%s%s/%s" % (prefix, ns, refs[0].get("name", ""))
                    if key not in keys:
                        keys.append(key)
                continue
            labels = meta(pod).get("labels") or {}
            for owner in view.list("%s%s/" % (prefix, ns)):
                sel = selector_of(owner.obj)
                if sel is not None and matches(sel, labels) and owner.key not in keys:
                    keys.append(owner.key)
        return keys

    return related


CONTROLLER = Controller(
    name="replicaset",
    primary=RS_PREFIX,
    watches=(RS_PREFIX, PODS),
    sync=sync,
    related=owners_of_pod(RS_PREFIX, "ReplicaSet"),
    workers=2,
    wake=wake,
    failed=failed,
)

RC_CONTROLLER = Controller(
    name="replicationcontroller",
    primary=RC_PREFIX,
    watches=(RC_PREFIX, PODS),
    sync=sync,
    related=owners_of_pod(RC_PREFIX, "ReplicationController"),
    workers=1,
    wake=wake,
    failed=failed,
)


def pick(key: str) -> Controller:
    """The controller of ``key`` (a ReplicaSet or a ReplicationController key)."""
    return RC_CONTROLLER if key.startswith(RC_PREFIX) else CONTROLLER
