"""The garbage collector: tests/data/reconciler/controllers/garbagecollector/ (view in,
actions out; see deletion_cases.py), related.yaml (which keys a change brings back), and the
batching of large orphanings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.api import kinds
from kubeform.reconciler.controllers import CONTROLLERS, garbagecollector
from kubeform.reconciler.machinery.actions import Delete, Put
from kubeform.reconciler.machinery.cache import Cache

from .casefile import NOW, read, related_cases, related_ids, related_keys, sync_files
from .deletion_cases import run

NAME = "garbagecollector"


@pytest.mark.parametrize("path", sync_files(NAME), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    got, expect = run(read(path), garbagecollector.sync)
    assert got == expect


@pytest.mark.parametrize("case", related_cases(NAME), ids=related_ids(NAME))
def test_related(case: dict[str, Any]) -> None:
    [ctrl] = [c for c in garbagecollector.CONTROLLERS if c.name == f"{NAME}-{case['controller']}"]
    assert related_keys(ctrl.related, case) == case["expect"]


def test_one_controller_per_collected_kind() -> None:
    """Every stored kind but Events and Nodes is collected, and the daemon runs them all."""
    names = {c.name for c in CONTROLLERS}
    for kind in kinds.KINDS:
        assert (f"{NAME}-{kind.resource}" in names) == (kind.kind not in ("Event", "Node"))


def test_orphaning_many_dependents_goes_in_batches() -> None:
    owner = {"kind": "ConfigMap", "metadata": {"name": "o", "namespace": "d", "uid": "u", "resourceVersion": 1,
                                               "deletionTimestamp": "2026-01-01T11:00:00Z", "finalizers": ["orphan"]}}
    objects: dict[str, Any] = {"/registry/configmaps/d/o": owner}
    for i in range(garbagecollector.BATCH + 5):
        objects[f"/registry/secrets/d/s{i:03d}"] = {
            "kind": "Secret", "metadata": {"name": f"s{i:03d}", "namespace": "d", "ownerReferences": [{"kind": "ConfigMap", "name": "o", "uid": "u"}]}
        }
    view = Cache.from_objects(objects)
    first = garbagecollector.sync("/registry/configmaps/d/o", view, NOW)
    assert len(first) == garbagecollector.BATCH and all(isinstance(a, Put) for a in first)
    for a in first:  # written: the rest comes next time
        assert isinstance(a, Put)
        view.write_through(a.key, a.obj, 100)
    second = garbagecollector.sync("/registry/configmaps/d/o", view, NOW)
    assert len(second) == 6 and isinstance(second[-1], Delete)
