"""Shared runner for the endpoints and service-map controllers' case files.

A case: ``view`` (objects by etcd key, added to the directory's ``_pods.yaml`` if any),
``sync`` (a key or keys), ``expect`` (actions: create {prefix, obj}, put {key,
expect_mod_revision, obj}, delete {key, expect_mod_revision}). ``related.yaml`` lists
changes and the keys synced again.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from kubeform.reconciler.controllers.base import Controller
from kubeform.reconciler.machinery.actions import Action, Create, Delete, Put
from kubeform.reconciler.machinery.cache import Cache, Change, Item

ROOT = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "controllers"
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def sync_cases(name: str) -> list[Path]:
    return sorted(p for p in (ROOT / name).glob("*.yaml") if not p.name.startswith("_") and p.name != "related.yaml")


def view_of(name: str, extra: dict[str, Any] | None) -> Cache:
    base = ROOT / name / "_pods.yaml"
    objects = yaml.safe_load(base.read_text()) if base.exists() else {}
    objects.update(extra or {})
    return Cache.from_objects(objects)


def summary(action: Action) -> dict[str, Any]:
    if isinstance(action, Create):
        return {"create": {"prefix": action.prefix, "obj": action.obj}}
    if isinstance(action, Put):
        return {"put": {"key": action.key, "expect_mod_revision": action.expect_mod_revision, "obj": action.obj}}
    assert isinstance(action, Delete)
    return {"delete": {"key": action.key, "expect_mod_revision": action.expect_mod_revision}}


def run_sync(controller: Controller, name: str, path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    view = view_of(name, case.get("view"))
    keys = case["sync"] if isinstance(case["sync"], list) else [case["sync"]]
    got = [summary(a) for key in keys for a in controller.sync(key, view, NOW)]
    assert got == case["expect"]


def related_cases(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((ROOT / name / "related.yaml").read_text())
    return [dict(c, view=data.get("view") or {}) for c in data["cases"]]


def run_related(controller: Controller, case: dict[str, Any]) -> None:
    view = Cache.from_objects(case["view"])
    ch = case["change"]
    old = Item(ch["key"], ch["old"], 1) if ch.get("old") is not None else None
    new = Item(ch["key"], ch["new"], 2) if ch.get("new") is not None else None
    assert sorted(controller.related(Change(ch["key"], old, new), view)) == case["expect"]
