"""The scheduling controller: state in, actions out (tests/data/reconciler/controllers/scheduling/).

Every case starts from _cluster.yaml (three nodes, two with fresh leases) plus its own
``view``, syncs ``sync`` (a key or a list of keys) at 2026-01-01T12:00:00Z with the real
scheduler, and lists the actions expected: a Put summarised as key, expected revision,
spec.nodeName and status; an event as involved ns/name, type, reason, component, message.
related.yaml lists, per change, which keys are decided again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.reconciler.controllers import CONTROLLERS, scheduling, watched_prefixes
from kubeform.reconciler.machinery.actions import Action, CreateEvent, Delete, Put
from kubeform.reconciler.machinery.cache import Cache

from .casefile import DATA, NOW, keys_of, read, related_cases, related_ids, related_keys, sync_files

CASES = DATA / "scheduling"


def _view(extra: dict[str, Any]) -> Cache:
    objects = yaml.safe_load((CASES / "_cluster.yaml").read_text())
    objects.update(extra or {})
    return Cache.from_objects(objects)


def summary(action: Action) -> dict[str, Any]:
    if isinstance(action, Put):
        return {
            "put": {
                "key": action.key,
                "expect_mod_revision": action.expect_mod_revision,
                "nodeName": (action.obj.get("spec") or {}).get("nodeName"),
                "status": action.obj.get("status"),
            }
        }
    if isinstance(action, CreateEvent):
        meta = action.involved["metadata"]
        return {
            "event": {
                "involved": f"{meta['namespace']}/{meta['name']}",
                "type": action.event_type,
                "reason": action.reason,
                "component": action.component,
                "message": action.message,
            }
        }
    assert isinstance(action, Delete)
    return {"delete": {"key": action.key, "expect_mod_revision": action.expect_mod_revision}}


SYNC_CASES = sync_files("scheduling")


@pytest.mark.parametrize("path", SYNC_CASES, ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    case = read(path)
    view = _view(case.get("view"))
    got = [summary(a) for key in keys_of(case) for a in scheduling.sync(key, view, NOW)]
    assert got == case["expect"]


@pytest.mark.parametrize("case", related_cases("scheduling"), ids=related_ids("scheduling"))
def test_related(case: dict[str, Any]) -> None:
    assert related_keys(scheduling.related, case) == case["expect"]


def test_controllers_table() -> None:
    names = [c.name for c in CONTROLLERS]
    assert len(names) == len(set(names)), "controller names must be unique"
    assert "scheduling" in names
    assert watched_prefixes(CONTROLLERS)[:3] == [
        "/registry/pods/",
        "/registry/minions/",
        "/registry/leases/kube-node-lease/",
    ]
    for c in CONTROLLERS:
        assert c.primary.endswith("/") and all(p.endswith("/") for p in c.watches)
        assert c.workers >= 1
