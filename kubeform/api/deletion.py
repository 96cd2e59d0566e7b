"""What deleting an object means, as the Kubernetes API server decides it. Pure, stdlib.

Why shared: `kubeform delete` (operator side) writes a deletion the way the apiserver
would, and the reconciler's garbage collector, namespace and node-lifecycle controllers
delete dependents, namespace contents and evicted pods the same way; one function keeps
them agreeing.

- A bound pod that has not finished is never removed outright: it is marked
  (``deletionTimestamp`` = now + grace, ``deletionGracePeriodSeconds``) and its node's
  agent stops it and removes the key. Unbound or finished pods go at once.
- ``foreground`` and ``orphan`` propagation (``kubeform delete --cascade=``) mark the owner
  (``deletionTimestamp`` and the ``foregroundDeletion`` / ``orphan`` finalizer, upstream's
  names); the garbage collector deletes or releases the dependents, removes its finalizer,
  and the object goes when no finalizer is left.
- An object that carries finalizers is marked instead of removed (whoever owns each
  finalizer removes it); a Namespace is marked Terminating (``status.phase``) and the
  namespace controller empties it, then removes its ``kubernetes`` finalizer.
"""

import copy
import datetime
from typing import Any, Dict, List, NamedTuple, Optional

Obj = Dict[str, Any]

#: spec.terminationGracePeriodSeconds when the pod does not set it (Kubernetes' default).
DEFAULT_GRACE = 30
BACKGROUND = "background"
FOREGROUND = "foreground"
ORPHAN = "orphan"
PROPAGATIONS = (BACKGROUND, FOREGROUND, ORPHAN)
#: metadata.finalizers the garbage collector owns (upstream's names).
FOREGROUND_FINALIZER = "foregroundDeletion"
ORPHAN_FINALIZER = "orphan"
#: spec.finalizers of a Namespace: the namespace controller's (upstream's name).
NAMESPACE_FINALIZER = "kubernetes"
#: Namespaces the apiserver refuses to delete.
PROTECTED_NAMESPACES = ("default", "kube-system", "kube-public")


class Deletion(NamedTuple):
    """The decision: ``remove`` the key now, else write ``obj`` (None: nothing to write)."""

    remove: bool
    obj: Optional[Obj]


def rfc3339(t: datetime.datetime) -> str:
    """Whole seconds, UTC, ``Z`` (how the apiserver stamps deletionTimestamp)."""
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta(obj: Obj) -> Obj:
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def is_deleting(obj: Obj) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def finalizers(obj: Obj) -> List[str]:
    return [str(f) for f in _meta(obj).get("finalizers") or []]


def pod_grace(pod: Obj) -> int:
    """spec.terminationGracePeriodSeconds, or the default."""
    value = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_GRACE


def pod_runs(pod: Obj) -> bool:
    """A node may be running it: bound and not finished (its agent must stop it)."""
    phase = (pod.get("status") or {}).get("phase")
    return bool((pod.get("spec") or {}).get("nodeName")) and phase not in ("Succeeded", "Failed")


def delete_pod(pod: Obj, now: datetime.datetime, grace: Optional[int] = None) -> Deletion:
    """Deleting a pod; ``grace`` None = the pod's own period, 0 = remove at once (force).

    A pod already terminating keeps its deadline unless the new one is sooner (the
    apiserver only ever shortens a grace period): then nothing is written.
    """
    seconds = pod_grace(pod) if grace is None else grace
    if seconds == 0 or not pod_runs(pod):
        return Deletion(True, None)
    meta = _meta(pod)
    current = meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionTimestamp") and isinstance(current, int) and current <= seconds:
        return Deletion(False, None)
    new = copy.deepcopy(pod)
    new_meta = new.setdefault("metadata", {})
    new_meta["deletionTimestamp"] = rfc3339(now + datetime.timedelta(seconds=seconds))
    new_meta["deletionGracePeriodSeconds"] = seconds
    return Deletion(False, new)


def delete_object(obj: Obj, now: datetime.datetime, propagation: str = BACKGROUND, grace: Optional[int] = None) -> Deletion:
    """Deleting any object as the apiserver does (pods: ``delete_pod``; propagation of pods
    is always background: a pod owns nothing that must go first)."""
    if obj.get("kind") == "Pod":
        return delete_pod(obj, now, grace)
    meta = _meta(obj)
    if obj.get("kind") == "Namespace":
        return _delete_namespace(obj, now)
    fins = finalizers(obj)
    wanted = {FOREGROUND: FOREGROUND_FINALIZER, ORPHAN: ORPHAN_FINALIZER}.get(propagation)
    if wanted is None and not fins:
        return Deletion(True, None)
    if meta.get("deletionTimestamp") and (wanted is None or wanted in fins):
        return Deletion(False, None)  # already being deleted this way
    new = copy.deepcopy(obj)
    new_meta = new.setdefault("metadata", {})
    new_meta.setdefault("deletionTimestamp", rfc3339(now))
    new_meta.setdefault("deletionGracePeriodSeconds", 0)
    if wanted is not None and wanted not in fins:
        # one GC finalizer at a time: a later orphan/foreground request replaces the other
        other = ORPHAN_FINALIZER if wanted == FOREGROUND_FINALIZER else FOREGROUND_FINALIZER
        new_meta["finalizers"] = [f for f in fins if f != other] + [wanted]
    return Deletion(False, new)


def _delete_namespace(ns: Obj, now: datetime.datetime) -> Deletion:
    """A Namespace becomes Terminating; the namespace controller empties and removes it."""
    if is_deleting(ns):
        return Deletion(False, None)
    new = copy.deepcopy(ns)
    meta = new.setdefault("metadata", {})
    meta["deletionTimestamp"] = rfc3339(now)
    meta["deletionGracePeriodSeconds"] = 0
    spec = new.get("spec")
    if not isinstance(spec, dict):
        spec = new["spec"] = {}
    fins = list(spec.get("finalizers") or [])
    if NAMESPACE_FINALIZER not in fins:
        fins.append(NAMESPACE_FINALIZER)
    spec["finalizers"] = fins
    status = new.get("status")
    if not isinstance(status, dict):
        status = new["status"] = {}
    status["phase"] = "Terminating"
    return Deletion(False, new)


def without_finalizer(obj: Obj, name: str) -> Deletion:
    """``obj`` (being deleted) with finalizer ``name`` removed: removed itself when that was
    the last one (the apiserver's rule), else written without it."""
    fins = finalizers(obj)
    rest = [f for f in fins if f != name]
    if not rest and not (obj.get("kind") == "Pod" and pod_runs(obj)):
        return Deletion(True, None)  # a running pod's key is its agent's to remove
    if rest == fins:
        return Deletion(False, None)
    new = copy.deepcopy(obj)
    if rest:
        new["metadata"]["finalizers"] = rest
    else:
        new["metadata"].pop("finalizers", None)
    return Deletion(False, new)
