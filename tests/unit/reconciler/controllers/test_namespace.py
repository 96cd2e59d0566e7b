"""The namespace controller: tests/data/reconciler/controllers/namespace/ (see deletion_cases.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.controllers import namespace
from kubeform.reconciler.machinery.cache import Cache

from .casefile import NOW, read, related_cases, related_ids, related_keys, sync_files
from .deletion_cases import run


@pytest.mark.parametrize("path", sync_files("namespace"), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    got, expect = run(read(path), namespace.sync)
    assert got == expect


@pytest.mark.parametrize("case", related_cases("namespace"), ids=related_ids("namespace"))
def test_related(case: dict[str, Any]) -> None:
    assert related_keys(namespace.related, case) == case["expect"]


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
