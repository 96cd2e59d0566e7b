"""Node lifecycle: tests/data/reconciler/controllers/nodelifecycle/ (see deletion_cases.py; a case's
``eviction_seconds`` is the reconciler config's pod_eviction_seconds, default 2)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.config import DEFAULT_POD_EVICTION_SECONDS, ReconcilerConfig
from kubeform.reconciler.controllers import CONTROLLERS, configured, nodelifecycle
from kubeform.reconciler.machinery.actions import Action
from kubeform.reconciler.machinery.cache import Cache

from .casefile import DATA, read, related_cases, related_ids, related_keys, sync_files
from .deletion_cases import run

NAME = "nodelifecycle"


@pytest.mark.parametrize("path", sync_files(NAME), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    case = read(path)
    seconds = float(case.get("eviction_seconds", DEFAULT_POD_EVICTION_SECONDS))

    def sync(key: str, view: Cache, now: datetime.datetime) -> list[Action]:
        return nodelifecycle.decide(key, view, now, seconds)

    got, expect = run(case, sync)
    assert got == expect


@pytest.mark.parametrize("case", related_cases(NAME), ids=related_ids(NAME))
def test_related(case: dict[str, Any]) -> None:
    assert related_keys(nodelifecycle.related, case) == case["expect"]


def test_the_config_sets_the_default_toleration() -> None:
    cfg = ReconcilerConfig({"etcd": {"endpoints": ["http://127.0.0.1:2379"]}, "pod_eviction_seconds": 0})
    assert cfg.pod_eviction_seconds == 0.0
    controllers = configured(list(CONTROLLERS), cfg.pod_eviction_seconds)
    [ctrl] = [c for c in controllers if c.name == NAME]
    assert [c.name for c in controllers] == [c.name for c in CONTROLLERS]
    case = read(DATA / NAME / "zero-seconds-evicts-at-once.yaml")
    got, expect = run(case, ctrl.sync)
    assert got == expect


def test_eviction_due() -> None:
    taint = {"key": nodelifecycle.UNREACHABLE, "effect": "NoExecute", "timeAdded": "2026-01-01T12:00:00Z"}
    t0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
    plain: dict[str, Any] = {"spec": {}}
    assert nodelifecycle.eviction_due(plain, [taint], 5) == t0 + datetime.timedelta(seconds=5)
    # the shortest of several matching tolerations with a limit wins
    two = {"spec": {"tolerations": [
        {"key": nodelifecycle.UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
        {"operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 10},
    ]}}
    assert nodelifecycle.eviction_due(two, [taint], 5) == t0 + datetime.timedelta(seconds=10)
    forever = {"spec": {"tolerations": [{"key": nodelifecycle.UNREACHABLE, "operator": "Exists"}]}}
    assert nodelifecycle.eviction_due(forever, [taint], 5) is None
    assert nodelifecycle.eviction_due(plain, [{"key": "x", "effect": "NoExecute"}], 5) == datetime.datetime(
        1970, 1, 1, tzinfo=datetime.UTC
    )
