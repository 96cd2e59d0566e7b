"""What every workload controller does with pods: make one from a template, claim the
pods it owns, and choose which to delete first.

Shared by ReplicaSet/ReplicationController, DaemonSet, Job and StatefulSet so that they
agree, as Kubernetes' controller_utils.go and ControllerRefManager make its controllers
agree:

- ``pod_from_template``: the pod a controller creates (labels, annotations and spec of
  the template, an ownerReference with controller: true), as a ``Create`` action.
- ``claim``: the pods a controller owns. It keeps the pods whose controller reference is
  its own and whose labels still match (releasing, by a Put that drops the reference, those
  that stopped matching) and adopts matching orphans (a Put that adds the reference), but
  never while it or the pod is being deleted.
- ``delete_pod``: a pod a node runs is marked (deletionTimestamp + grace) for its agent
  to stop and remove, as ``kubeform delete`` does; one no node runs goes at once.
- ``deletion_order``: which pods go first when there are too many: unscheduled before
  scheduled, Pending before Unknown before Running, not ready before ready, ready for a
  shorter time, more restarts, newer (Kubernetes' ActivePods ordering).
- ``delete_pod``: a controller's delete is the apiserver's graceful deletion, as
  ``kubeform delete pod`` does it (kubeform/store/pod_deletion.py): a pod a node runs is
  only marked (deletionTimestamp = now + grace, deletionGracePeriodSeconds) and its node's
  agent stops it and removes the key; an unbound or finished pod's key goes at once.

Pure and stdlib-only (Python 3.6), like every decision.
"""

import copy
import datetime
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from kubeform.api import events, selectors
from kubeform.api.nodes import parse_time
from kubeform.api.objects import (
    SAFE_ALPHABET,
    condition,
    controller_ref,
    fnv32a,
    meta,
    new_controller_ref,
    pod_is_ready,
)
from kubeform.errors import UserError

from . import poddeletion
from .machinery.actions import Action, Create, CreateEvent, Put
from .machinery.cache import Item

Obj = Dict[str, Any]

PODS = "/registry/pods/"
#: spec.terminationGracePeriodSeconds when the pod does not set it (Kubernetes' default).
DEFAULT_GRACE = 30
PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def pod_key(namespace: str, name: str) -> str:
    return "%s%s/%s" % (PODS, namespace, name)


def pod_from_template(
    owner: Obj,
    template: Obj,
    generate_name: Optional[str] = None,
    name: Optional[str] = None,
    extra_labels: Optional[Dict[str, str]] = None,
) -> Obj:
    """A new Pod (not yet stored) made from ``template``, controlled by ``owner``.

    ``generate_name`` (default ``<owner name>-``) is used unless ``name`` is given.
    """
    tmeta = template.get("metadata") or {}
    ometa = meta(owner)
    labels = dict(tmeta.get("labels") or {})
    labels.update(extra_labels or {})
    pmeta: Obj = {"namespace": ometa.get("namespace") or "default", "labels": labels}
    if tmeta.get("annotations"):
        pmeta["annotations"] = dict(tmeta["annotations"])
    if name:
        pmeta["name"] = name
    else:
        pmeta["generateName"] = generate_name if generate_name is not None else ometa.get("name", "") + "-"
    pmeta["ownerReferences"] = [new_controller_ref(owner)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pmeta,
        "spec": copy.deepcopy(template.get("spec") or {}),
        "status": {"phase": "Pending"},
    }


def create_pod(pod: Obj) -> Create:
    return Create(PODS, pod)


def name_created(owner: Obj, revision: int, actions: List[Action], taken: Set[str], component: str) -> List[CreateEvent]:
    """Names the pods ``actions`` create (each Create of a pod with only a generateName) as
    the ReplicaSet controller names its own: the generateName and five characters hashed
    from the owner's uid, its mod_revision and the pod's place, so a decision made twice
    names the same pods and the writer creates them once; and one ``SuccessfulCreate``
    event per pod (``Created pod: pi-xxxxx``), as upstream's pod control records."""
    uid = str(meta(owner).get("uid") or "")
    out: List[CreateEvent] = []
    for place, action in enumerate(a for a in actions if isinstance(a, Create) and a.prefix == PODS):
        pmeta = action.obj.setdefault("metadata", {})
        if pmeta.get("name"):
            continue
        attempt = 0
        while True:
            h = fnv32a(("%s/%d/%d/%d" % (uid, revision, place, attempt)).encode("utf-8"))
            suffix = ""
            for _ in range(5):
                suffix += SAFE_ALPHABET[h % len(SAFE_ALPHABET)]
                h //= len(SAFE_ALPHABET)
            name = str(pmeta.get("generateName") or "") + suffix
            if name not in taken:
                break
            attempt += 1
        taken.add(name)
        pmeta["name"] = name
        out.append(CreateEvent(owner, "SuccessfulCreate", "Created pod: %s" % name, events.NORMAL, component))
    return out


def is_active(pod: Obj) -> bool:
    """Counts towards replicas: not finished and not being deleted."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and not meta(pod).get("deletionTimestamp")


def selects(owner: Obj) -> Callable[[Obj], bool]:
    """Whether the owner's pod selector (``spec.selector``: matchLabels/matchExpressions or
    a plain map) matches a pod; an empty or invalid selector selects nothing."""
    try:
        selector = selectors.of_object(owner)
    except UserError:
        selector = None

    def matches(pod: Obj) -> bool:
        return bool(selector) and selectors.matches(selector or (), meta(pod).get("labels") or {})

    return matches


def _is_deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def claim(owner: Obj, selects: Callable[[Obj], bool], pods: List[Item]) -> Tuple[List[Item], List[Action]]:
    """The pods ``owner`` controls after adoption and release, and the Puts that do it.

    ``pods`` are the candidates (the owner's namespace); ``selects(pod)`` says whether the
    owner's selector matches. A pod claimed this way is returned with the reference added
    (adopted) so the caller counts it at once; a released pod is not returned.
    """
    uid = meta(owner).get("uid")
    owned: List[Item] = []
    actions: List[Action] = []
    for item in pods:
        pod = item.obj
        ref = controller_ref(pod)
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if selects(pod) or _is_deleting(owner):
                owned.append(item)
                continue
            if _is_deleting(pod):
                continue
            actions.append(Put(item.key, _without_ref(pod, str(uid)), item.mod_revision))
            continue
        if _is_deleting(owner) or _is_deleting(pod) or not selects(pod):
            continue
        adopted = _with_ref(pod, owner)
        actions.append(Put(item.key, adopted, item.mod_revision))
        owned.append(Item(item.key, adopted, item.mod_revision))
    return owned, actions


def _with_ref(pod: Obj, owner: Obj) -> Obj:
    pmeta = dict(meta(pod))
    refs = [r for r in pmeta.get("ownerReferences") or [] if r.get("uid") != meta(owner).get("uid")]
    refs.append(new_controller_ref(owner))
    pmeta["ownerReferences"] = refs
    return dict(pod, metadata=pmeta)


def _without_ref(pod: Obj, uid: str) -> Obj:
    pmeta = dict(meta(pod))
    refs = [r for r in pmeta.get("ownerReferences") or [] if r.get("uid") != uid]
    if refs:
        pmeta["ownerReferences"] = refs
    else:
        pmeta.pop("ownerReferences", None)
    return dict(pod, metadata=pmeta)


def _ready_since(pod: Obj, now: datetime.datetime) -> float:
    cond = condition(pod, "Ready")
    when = parse_time(str((cond or {}).get("lastTransitionTime") or ""))
    return (now - when).total_seconds() if when else 0.0


def _restarts(pod: Obj) -> int:
    return max([int(c.get("restartCount") or 0) for c in (pod.get("status") or {}).get("containerStatuses") or []] or [0])


def _created(pod: Obj) -> str:
    return str(meta(pod).get("creationTimestamp") or "")


def deletion_order(pods: List[Item], now: datetime.datetime) -> List[Item]:
    """``pods`` with the ones to delete first at the front (Kubernetes' ActivePods order)."""

    def rank(item: Item) -> Tuple[Any, ...]:
        pod = item.obj
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        ready = pod_is_ready(pod)
        created = _created(pod)
        return (
            1 if (pod.get("spec") or {}).get("nodeName") else 0,
            PHASE_RANK.get(phase, 0),
            1 if ready else 0,
            _ready_since(pod, now) if ready else 0.0,
            -_restarts(pod),
            # newer first; a pod without a creation time counts as the newest
            "" if not created else _invert(created),
            item.key,
        )

    return sorted(pods, key=rank)


def _invert(stamp: str) -> str:
    """A string that sorts in the reverse order of RFC 3339 ``stamp`` (newest first)."""
    return "".join(chr(0x7E - ord(c)) if " " < c < "\x7f" else c for c in stamp)


def delete_pod(item: Item, now: datetime.datetime) -> Optional[Action]:
    """The graceful deletion of a pod (reconciler/poddeletion.py, the apiserver's rule),
    guarded by its mod_revision; None when it is already being deleted."""
    actions = poddeletion.delete_pod(item, now)
    return actions[0] if actions else None
