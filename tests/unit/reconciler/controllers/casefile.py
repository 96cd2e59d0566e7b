"""The one reader of controller case files (tests/data/reconciler/controllers/<name>/).

Every controller's cases live in its own directory: ``*.yaml`` files are sync cases
(files starting with ``_`` are shared bases, ``related.yaml`` is not a sync case), and
``related.yaml`` holds ``view`` ({etcd key: object}) and ``related``: changes (``key``,
``old``, ``new``; null = absent) with the primary keys the controller syncs again.

This module does the mechanics every controller's tests share: finding and reading the
files (a case's ``base``: another file of the directory whose view it extends; a null
object removes a key), the time (``now``, default NOW), the keys to sync (one or a
list), the view as a cache, and ``related`` cases. How actions are summarised is the
case format's own: cases.py (dotted fields; DaemonSet, Job, CronJob), deletion_cases.py
(GC, namespaces, node lifecycle), services_cases.py (endpoints, service map),
summaries.py (ReplicaSets, Deployments), and test_scheduling/test_statefulset.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kubeform.api.nodes import parse_time
from kubeform.reconciler.machinery.cache import Cache, Change, Item

DATA = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "controllers"
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
RELATED = "related.yaml"

Related = Callable[[Change, Any], list[str]]


def sync_files(name: str) -> list[Path]:
    """The sync case files of controller ``name``, sorted."""
    return sorted(p for p in (DATA / name).glob("*.yaml") if not p.name.startswith("_") and p.name != RELATED)


def read(path: Path) -> dict[str, Any]:
    """A case file, its ``base`` view merged in (a null object: not in this case)."""
    case: dict[str, Any] = yaml.safe_load(path.read_text())
    view: dict[str, Any] = dict(read(path.parent / case["base"]).get("view") or {}) if case.get("base") else {}
    view.update(case.get("view") or {})
    case["view"] = {k: v for k, v in view.items() if v is not None}
    return case


def cases(name: str) -> list[tuple[str, dict[str, Any]]]:
    """Every sync case of ``name``: (file stem, case)."""
    return [(p.stem, read(p)) for p in sync_files(name)]


def view_of(case: dict[str, Any], base: dict[str, Any] | None = None) -> Cache:
    objects = dict(base or {})
    objects.update(case.get("view") or {})
    return Cache.from_objects(objects)


def now_of(case: dict[str, Any]) -> datetime.datetime:
    value = case.get("now")
    if value is None:
        return NOW
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    when = parse_time(str(value))
    assert when is not None, f"bad now: {value!r}"
    return when


def dig(obj: Any, path: str) -> Any:
    """The value at a dotted path (None when any step is missing)."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def keys_of(case: dict[str, Any]) -> list[str]:
    return case["sync"] if isinstance(case["sync"], list) else [case["sync"]]


def related_cases(name: str) -> list[dict[str, Any]]:
    """The ``related`` cases of ``name``, each with the file's ``view``."""
    data = yaml.safe_load((DATA / name / RELATED).read_text())
    return [dict(c, view=data.get("view") or {}) for c in data["related"]]


def related_ids(name: str) -> list[str]:
    return [str(c.get("name") or c["change"]["key"]) for c in related_cases(name)]


def _item(key: str, obj: Any, rev: int) -> Item | None:
    return None if obj is None else Item(key, obj, rev)


def related_keys(related: Related, case: dict[str, Any]) -> list[str]:
    """What ``related`` returns for the case's change (old at revision 1, new at 2)."""
    ch = case["change"]
    change = Change(ch["key"], _item(ch["key"], ch.get("old"), 1), _item(ch["key"], ch.get("new"), 2))
    return related(change, Cache.from_objects(case["view"]))
