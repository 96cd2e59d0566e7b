"""Informer + cache, driven by case files (tests/data/reconciler/machinery/informer/).

A fake etcd answers the informer's list and watch calls from the case; each step is one
``Informer.step()`` (list when needed, then one watch session ending in a timeout, the
stream closing, or compaction), or a write-through from the writer. After each step the
case says which changes reached ``on_change`` ([key, old mod_revision, new]), and
optionally the cache (key -> mod_revision), the resume revision and how many lists ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api.etcd import WatchCompacted
from kubeform.reconciler.machinery.cache import Cache, Change
from kubeform.reconciler.machinery.informer import Informer

CASES = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "machinery" / "informer"


class FakeKV:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.key = raw["key"]
        value = raw.get("value", "")
        self.value = value if isinstance(value, str) else json.dumps(value)
        self.mod_revision = int(raw["mod_revision"])
        self.lease = 0


class FakeEtcd:
    def __init__(self) -> None:
        self.lists: list[dict[str, Any]] = []
        self.watches: list[dict[str, Any]] = []

    def range(self, key: str, prefix: bool = False) -> tuple[list[FakeKV], int]:
        answer = self.lists.pop(0)
        return [FakeKV(kv) for kv in answer.get("kvs", [])], int(answer["revision"])

    def watch(self, key: str, prefix: bool = False, start_revision: int = 0, timeout: float | None = None) -> Iterator[tuple[str, FakeKV]]:
        session = self.watches.pop(0)
        assert start_revision == session["from"], f"watch from {start_revision}, case says {session['from']}"
        for ev in session.get("events", []):
            yield ev["type"], FakeKV(ev)
        end = session.get("end", "closed")
        if end == "timeout":
            raise TimeoutError()  # what socket.timeout is since Python 3.10
        if end == "compacted":
            raise WatchCompacted(session.get("compact_revision", 100))


def _rev(item: Any) -> int | None:
    return None if item is None else int(item.mod_revision)


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text())
    etcd = FakeEtcd()
    cache = Cache()
    seen: list[Change] = []
    informer = Informer(etcd, case["prefix"], cache, seen.append)
    for n, step in enumerate(case["steps"]):
        seen.clear()
        if "write_through" in step:
            wt = step["write_through"]
            change = cache.write_through(wt["key"], wt["obj"], wt["revision"])
            if change is not None:
                seen.append(change)
        else:
            if "list" in step:
                etcd.lists.append(step["list"])
            etcd.watches.append(step["watch"])
            informer.step()
            assert not etcd.lists, f"step {n}: the informer did not list"
        want = step.get("expect", {})
        where = f"{path.name} step {n}"
        if "changes" in want:
            got = [[c.key, _rev(c.old), _rev(c.new)] for c in seen]
            assert got == want["changes"], where
        if "cache" in want:
            got_cache = {i.key: i.mod_revision for i in cache.list(case["prefix"])}
            assert got_cache == want["cache"], where
        if "objects" in want:
            for key, obj in want["objects"].items():
                item = cache.get(key)
                assert item is not None and item.obj == obj, where
        if "revision" in want:
            assert informer.revision == want["revision"], where
        if "lists" in want:
            assert informer.lists == want["lists"], where


def test_replace_keeps_newer_write_through_and_other_prefixes() -> None:
    cache = Cache()
    cache.write_through("/registry/minions/n1", {"metadata": {"name": "n1"}}, 7)
    cache.write_through("/registry/pods/default/a", {"metadata": {"name": "a"}}, 30)
    # a list read at revision 20 does not know about the write at 30: it stays
    changes = cache.replace("/registry/pods/", [], 20)
    assert changes == []
    assert cache.keys() == ["/registry/minions/n1", "/registry/pods/default/a"]
    changes = cache.replace("/registry/pods/", [], 31)
    assert [c.key for c in changes] == ["/registry/pods/default/a"]
