"""The namespace controller: tests/data/reconciler/controllers/namespace/ (see deletion_cases.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.reconciler.controllers import namespace
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .deletion_cases import DATA, NOW, case_files, load, run


@pytest.mark.parametrize("path", case_files("namespace"), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    got, expect = run(load(path), namespace.sync)
    assert got == expect


RELATED = yaml.safe_load((DATA / "namespace" / "related.yaml").read_text())


def _item(key: str, obj: Any) -> Item | None:
    return None if obj is None else Item(key, obj, 1)


@pytest.mark.parametrize("case", RELATED["related"], ids=[c["name"] for c in RELATED["related"]])
def test_related(case: dict[str, Any]) -> None:
    ch = case["change"]
    change = Change(ch["key"], _item(ch["key"], ch["old"]), _item(ch["key"], ch["new"]))
    assert namespace.related(change, Cache.from_objects(RELATED["view"])) == case["expect"]


def test_large_namespace_goes_in_batches() -> None:
    objects: dict[str, Any] = {"/registry/namespaces/big": {"kind": "Namespace", "metadata": {
        "name": "big", "deletionTimestamp": "2026-01-01T11:00:00Z"}, "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Terminating"}}}
    for i in range(namespace.BATCH * 2 + 1):
        objects[f"/registry/configmaps/big/c{i:03d}"] = {"kind": "ConfigMap", "metadata": {"name": f"c{i:03d}", "namespace": "big"}}
    view = Cache.from_objects(objects)
    rounds = 0
    while True:
        actions = namespace.sync("/registry/namespaces/big", view, NOW)
        rounds += 1
        assert len(actions) <= namespace.BATCH
        for a in actions:
            view.write_through(a.key, None, 100 + rounds)  # type: ignore[union-attr]
        if any(a.key == "/registry/namespaces/big" for a in actions):  # type: ignore[union-attr]
            break
    assert rounds == 4 and view.get("/registry/namespaces/big") is None
