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

import datetime
from typing import Any, Dict, List, Optional

from kubeform.api import deletion
from kubeform.api.objects import meta

from .machinery.actions import Action, Delete, Put
from .machinery.cache import Item

Obj = Dict[str, Any]

def delete_pod(item: Item, now: datetime.datetime, pod: Optional[Obj] = None) -> List[Action]:
    """The actions that delete the pod at ``item`` (none when it is already being deleted).

    The rule is the apiserver's (kubeform/api/deletion.py, shared with ``kubeform delete``
    and the garbage collector). ``pod``: the object to mark instead of ``item.obj`` (the
    caller's edited copy, e.g. without a finalizer), still guarded by the item's mod_revision.
    """
    obj = item.obj if pod is None else pod
    if meta(item.obj).get("deletionTimestamp"):
        return [] if pod is None or pod == item.obj else [Put(item.key, obj, item.mod_revision)]
    decision = deletion.delete_pod(obj, now)
    if decision.remove:
        return [Delete(item.key, item.mod_revision)]
    return [Put(item.key, decision.obj, item.mod_revision)] if decision.obj is not None else []
