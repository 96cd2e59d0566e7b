"""Shared reading of controller case files (tests/data/reconciler/controllers/<name>/).

A case file holds ``view`` ({etcd key: object}, resourceVersion = mod_revision), the key
to ``sync``, optionally ``now`` (default 2026-01-01T12:00:00Z) and ``expect``: the actions,
each summarised so a case says what matters and nothing else:

- ``put``: key, ``rev`` (expected mod_revision) and the object's fields named in ``show``
  for its kind (dotted paths; defaults in SHOW below);
- ``create``: prefix, ``name`` (or generateName) and the ``show`` fields of the new object;
- ``delete``: key and ``rev``; ``event``: reason, type and message; ``requeue``: seconds.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from kubeform.reconciler.machinery.actions import Action, Create, CreateEvent, Delete, Put, Requeue
from kubeform.reconciler.machinery.cache import Cache

DATA = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "controllers"
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)

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


def dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


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


def load(controller: str) -> list[tuple[str, dict[str, Any]]]:
    """Every case of a controller: (file stem, case), files starting with _ excluded."""
    out = []
    for path in sorted((DATA / controller).glob("*.yaml")):
        if not path.name.startswith("_"):
            out.append((path.stem, yaml.safe_load(path.read_text())))
    return out


def view_of(case: dict[str, Any], base: dict[str, Any] | None = None) -> Cache:
    objects = dict(base or {})
    objects.update(case.get("view") or {})
    return Cache.from_objects(objects)


def now_of(case: dict[str, Any]) -> datetime.datetime:
    if "now" not in case:
        return NOW
    value = case["now"]
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
