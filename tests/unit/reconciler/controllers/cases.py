"""The compact case format (DaemonSet, Job, CronJob; files read by casefile.py).

A case file holds ``view`` ({etcd key: object}, resourceVersion = mod_revision), the key
to ``sync``, optionally ``now`` (default 2026-01-01T12:00:00Z) and ``expect``: the actions,
each summarised so a case says what matters and nothing else:

- ``put``: key, ``rev`` (expected mod_revision) and the object's fields named in ``show``
  for its kind (dotted paths; defaults in SHOW below);
- ``create``: prefix, ``name`` (or generateName) and the ``show`` fields of the new object;
- ``delete``: key and ``rev``; ``event``: reason, type and message; ``requeue``: seconds.
"""

from __future__ import annotations

from typing import Any

from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put, Requeue

from .casefile import dig

SHOW: dict[str, list[str]] = {
    "Pod": ["metadata.finalizers", "metadata.deletionTimestamp"],
    "Job": ["status"],
    "DaemonSet": ["status"],
    "CronJob": ["status"],
}
CREATE_SHOW: dict[str, list[str]] = {
    "Pod": ["metadata.labels", "metadata.finalizers", "spec.nodeName"],
    "Job": ["metadata.labels", "metadata.annotations", "metadata.ownerReferences"],
    "ControllerRevision": ["revision"],
}


def _fields(obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    return {p: dig(obj, p) for p in paths if dig(obj, p) is not None}


def summary(action: Action, show: dict[str, list[str]] | None = None, create_show: dict[str, list[str]] | None = None) -> dict[str, Any]:
    if isinstance(action, Put):
        kind = str(action.obj.get("kind"))
        paths = (show or {}).get(kind, SHOW.get(kind, []))
        return {"put": action.key, "rev": action.expect_mod_revision, **_fields(action.obj, paths)}
    if isinstance(action, Create):
        meta = action.obj.get("metadata") or {}
        kind = str(action.obj.get("kind"))
        paths = (create_show or {}).get(kind, CREATE_SHOW.get(kind, []))
        name = {"name": meta["name"]} if meta.get("name") else {"generateName": meta.get("generateName")}
        return {"create": action.prefix, **name, **_fields(action.obj, paths)}
    if isinstance(action, Delete):
        return {"delete": action.key, "rev": action.expect_mod_revision}
    if isinstance(action, CreateEvent):
        return {"event": action.reason, "type": action.event_type, "message": action.message}
    assert isinstance(action, Requeue)
    return {"requeue": round(action.after, 3)}
