"""How a controller deletes a pod: gracefully when a node runs it, as the apiserver does.

Why: a bound, running pod's containers live on its node; removing its key would leave the
agent to find an orphan and kill it without the pod's grace period. So, as the apiserver
does for a DELETE with the default grace, a bound pod that is not finished is only marked
(``deletionTimestamp`` = now + grace, ``deletionGracePeriodSeconds`` = grace) by a Put on
its mod_revision; its agent sends SIGTERM, waits, kills, tears down and removes the key.
A pod no node runs (unbound, or Succeeded/Failed) is removed at once. A pod already being
deleted is left alone. The operator-side twin is kubeform/store/pod_deletion.py (same
rule, for ``kubeform delete pod``). Pure: the clock comes in as ``now``.
"""

import copy
import datetime
from typing import Any, Dict, List, Optional

from kubeform.api import events
from kubeform.api.objects import meta, pod_is_terminal

from .machinery.actions import Action, Delete, Put
from .machinery.cache import Item

Obj = Dict[str, Any]

#: spec.terminationGracePeriodSeconds when the pod does not say (Kubernetes' default).
DEFAULT_GRACE = 30


def grace_seconds(pod: Obj) -> int:
    value = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return DEFAULT_GRACE


def marked(pod: Obj, now: datetime.datetime) -> Obj:
    """A copy of ``pod`` marked for graceful deletion at ``now``."""
    grace = grace_seconds(pod)
    out = copy.deepcopy(pod)
    pmeta = out.setdefault("metadata", {})
    pmeta["deletionTimestamp"] = events.rfc3339(now + datetime.timedelta(seconds=grace))
    pmeta["deletionGracePeriodSeconds"] = grace
    return out


def delete_pod(item: Item, now: datetime.datetime, pod: Optional[Obj] = None) -> List[Action]:
    """The actions that delete the pod at ``item`` (none when it is already being deleted).

    ``pod``: the object to mark instead of ``item.obj`` (the caller's edited copy, e.g.
    without a finalizer), still guarded by the item's mod_revision.
    """
    obj = item.obj if pod is None else pod
    if meta(item.obj).get("deletionTimestamp"):
        return [] if pod is None or pod == item.obj else [Put(item.key, obj, item.mod_revision)]
    if not (obj.get("spec") or {}).get("nodeName") or pod_is_terminal(obj):
        return [Delete(item.key, item.mod_revision)]
    return [Put(item.key, marked(obj, now), item.mod_revision)]
