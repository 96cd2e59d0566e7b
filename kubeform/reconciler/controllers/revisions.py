"""ControllerRevisions: the template history of DaemonSets and StatefulSets.

Kubernetes' controller history (pkg/controller/history), shared by both controllers and
read by ``kubeform rollout history|undo`` (kubeform/store/rollout_sets.py): a revision
``<owner>-<hash>`` records the pod template as a replacing patch (``data``), carries a
``revision`` number and a controller ownerReference (the garbage collector removes it
with its owner). The current template's revision is created when absent, with the next
number; an old revision whose template is current again (a rollback) gets the next
number instead of a copy. Revisions beyond ``revisionHistoryLimit`` (default 10) are
deleted oldest first, never the current ones nor one a pod still runs.
"""

import copy
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api.objects import is_controlled_by, meta

from ..machinery.actions import Action, Create, Delete, Put
from ..machinery.cache import Item
from .base import View

Obj = Dict[str, Any]

REVISIONS = "/registry/controllerrevisions/"
DEFAULT_HISTORY_LIMIT = 10


def revision_data(template: Obj) -> Obj:
    """What a ControllerRevision records: the template as a replacing patch (as upstream)."""
    recorded = copy.deepcopy(template)
    recorded["$patch"] = "replace"
    return {"spec": {"template": recorded}}


def template_of_revision(revision: Obj) -> Optional[Obj]:
    template = ((revision.get("data") or {}).get("spec") or {}).get("template")
    if not isinstance(template, dict):
        return None
    out = copy.deepcopy(template)
    out.pop("$patch", None)
    return out


def owner_ref(owner: Obj, kind: str, controller: bool) -> Obj:
    """The ownerReference an apps/v1 owner of ``kind`` puts on what it makes."""
    m = meta(owner)
    ref = {"apiVersion": "apps/v1", "kind": kind, "name": m.get("name", ""), "uid": m.get("uid", "")}
    if controller:
        ref["controller"] = True
    ref["blockOwnerDeletion"] = True
    return ref


def owned(owner: Obj, view: View, namespace: str) -> List[Item]:
    """The revisions ``owner`` controls."""
    return [i for i in view.list(REVISIONS + namespace + "/") if is_controlled_by(i.obj, owner)]


def number(revision: Obj) -> int:
    value = revision.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def ensure_current(
    owner: Obj, kind: str, revisions: List[Item], namespace: str, name: str, extra_labels: Optional[Dict[str, str]] = None
) -> Tuple[List[Action], int]:
    """Create the revision ``name`` of the owner's template (or renumber an old one that
    matches again, a rollback); the actions and its number."""
    top = max([number(i.obj) for i in revisions] or [0])
    existing = [i for i in revisions if meta(i.obj).get("name") == name]
    template = (owner.get("spec") or {}).get("template") or {}
    if not existing:
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update(extra_labels or {})
        obj = {
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": namespace, "labels": labels, "ownerReferences": [owner_ref(owner, kind, True)]},
            "data": revision_data(template),
            "revision": top + 1,
        }
        return [Create(REVISIONS, obj)], top + 1
    item = existing[0]
    if number(item.obj) < top:
        return [Put(item.key, dict(item.obj, revision=top + 1), item.mod_revision)], top + 1
    return [], number(item.obj)


def trim_history(owner: Obj, revisions: List[Item], keep: List[str], live: List[str]) -> List[Action]:
    """Delete the oldest revisions beyond revisionHistoryLimit (never one in ``keep`` or
    one a pod still runs, ``live``)."""
    limit = (owner.get("spec") or {}).get("revisionHistoryLimit")
    limit = limit if isinstance(limit, int) and limit >= 0 else DEFAULT_HISTORY_LIMIT
    old = [i for i in revisions if meta(i.obj).get("name") not in keep and meta(i.obj).get("name") not in live]
    old.sort(key=lambda i: number(i.obj))
    return [Delete(i.key, i.mod_revision) for i in old[: max(0, len(old) - limit)]]
