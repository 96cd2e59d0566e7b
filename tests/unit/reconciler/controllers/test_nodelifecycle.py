"""Node lifecycle: tests/data/reconciler/controllers/nodelifecycle/ (see deletion_cases.py; a case's
``eviction_seconds`` is the reconciler config's pod_eviction_seconds, default 2)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.reconciler.config import DEFAULT_POD_EVICTION_SECONDS, ReconcilerConfig
from kubeform.reconciler.controllers import CONTROLLERS, configured, nodelifecycle
from kubeform.reconciler.machinery.actions import Action
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .deletion_cases import DATA, case_files, load, run

NAME = "nodelifecycle"


@pytest.mark.parametrize("path", case_files(NAME), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    case = load(path)
    seconds = float(case.get("eviction_seconds", DEFAULT_POD_EVICTION_SECONDS))

    def sync(key: str, view: Cache, now: datetime.datetime) -> list[Action]:
        return nodelifecycle.decide(key, view, now, seconds)

    got, expect = run(case, sync)
    assert got == expect


RELATED = yaml.safe_load((DATA / NAME / "related.yaml").read_text())


def _item(key: str, obj: Any) -> Item | None:
    return None if obj is None else Item(key, obj, 1)


@pytest.mark.parametrize("case", RELATED["related"], ids=[c["name"] for c in RELATED["related"]])
def test_related(case: dict[str, Any]) -> None:
    ch = case["change"]
    change = Change(ch["key"], _item(ch["key"], ch["old"]), _item(ch["key"], ch["new"]))
    assert nodelifecycle.related(change, Cache.from_objects(RELATED["view"])) == case["expect"]


def test_the_config_sets_the_default_toleration() -> None:
    cfg = ReconcilerConfig({"etcd": {"endpoints": ["http://127.0.0.1:2379"]}, "pod_eviction_seconds": 0})
    assert cfg.pod_eviction_seconds == 0.0
    controllers = configured(list(CONTROLLERS), cfg.pod_eviction_seconds)
    [ctrl] = [c for c in controllers if c.name == NAME]
    assert [c.name for c in controllers] == [c.name for c in CONTROLLERS]
    case = load(DATA / NAME / "zero-seconds-evicts-at-once.yaml")
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
