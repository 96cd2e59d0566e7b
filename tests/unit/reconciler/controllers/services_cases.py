"""The endpoints and service-map controllers' case format (read by casefile.py).

A case: ``view`` (objects by etcd key, added to the directory's ``_pods.yaml`` if any),
``sync`` (a key or keys), ``expect`` (actions: create {prefix, obj}, put {key,
expect_mod_revision, obj}, delete {key, expect_mod_revision}).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubeform.reconciler.controllers.base import Controller
from kubeform.reconciler.machinery.actions import Action, Create, Delete, Put
from kubeform.reconciler.machinery.cache import Cache

from .casefile import DATA, NOW, keys_of, read


def view_of(name: str, extra: dict[str, Any] | None) -> Cache:
    base = DATA / name / "_pods.yaml"
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
    case = read(path)
    view = view_of(name, case.get("view"))
    got = [summary(a) for key in keys_of(case) for a in controller.sync(key, view, NOW)]
    assert got == case["expect"]
