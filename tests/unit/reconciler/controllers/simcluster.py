"""A simulated cluster for controller tests: etcd's transaction rules, the writer's
naming, and what nodes do to pods (start them, make them ready, finish deletions).

Why not a mock: the rules that matter for "never twice" are the transaction's guards
(mod_revision, key absent, all or nothing), so this keeps them exactly; the cache is the
real one and gets the writer's write-through, or (``lose_answer``) nothing at all, as when
etcd applied a transaction whose answer never came back.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable, Iterable
from typing import Any

from kubeform.api import events
from kubeform.reconciler.machinery.actions import CREATE, Action, Create, CreateEvent, Delete, Put
from kubeform.reconciler.machinery.cache import Cache
from kubeform.reconciler.machinery.writer import created

Obj = dict[str, Any]
T0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


class SimCluster:
    """etcd (key -> (object, mod_revision)) plus a cache the controllers read."""

    def __init__(self, objects: dict[str, Obj] | None = None, now: datetime.datetime = T0) -> None:
        self.revision = 1
        self.store: dict[str, tuple[Obj, int]] = {}
        self.now = now
        self.events: list[CreateEvent] = []
        self.uids = 0
        for key, obj in (objects or {}).items():
            self.revision += 1
            self.store[key] = (copy.deepcopy(obj), self.revision)
        self.cache = Cache()
        self.refresh()

    # -- etcd ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """The watch caught up: the cache holds exactly what etcd holds."""
        for key in [k for k in self.cache.keys() if k not in self.store]:
            self.cache.write_through(key, None, self.revision)
        for key, (obj, rev) in self.store.items():
            self.cache.write_through(key, copy.deepcopy(obj), rev)

    def txn(self, actions: list[Action], lose_answer: bool = False) -> bool:
        """One transaction with the writer's guards; False when a compare failed."""
        if not actions:
            return True
        writes: list[tuple[str, Obj | None]] = []
        for action in actions:
            if isinstance(action, Create):
                self.uids += 1
                key, obj = created(action, f"x{self.uids:04d}", f"uid-{self.uids}", self.now)
                if key in self.store:
                    return False
                writes.append((key, obj))
            elif isinstance(action, Put):
                current = self.store.get(action.key)
                if action.expect_mod_revision == CREATE:
                    if current is not None:
                        return False
                elif current is None or current[1] != action.expect_mod_revision:
                    return False
                obj = copy.deepcopy(action.obj)
                (obj.get("metadata") or {}).pop("resourceVersion", None)
                writes.append((action.key, obj))
            elif isinstance(action, Delete):
                current = self.store.get(action.key)
                if current is None or current[1] != action.expect_mod_revision:
                    return False
                writes.append((action.key, None))
        self.revision += 1
        for key, value in writes:
            if value is None:
                self.store.pop(key, None)
            else:
                self.store[key] = (value, self.revision)
            if not lose_answer:
                self.cache.write_through(key, copy.deepcopy(value), self.revision)
        self.events.extend(a for a in actions if isinstance(a, CreateEvent))
        return True

    def put(self, key: str, obj: Obj) -> None:
        """Someone else (the CLI, an agent) writes ``obj``; the watch delivers it."""
        self.revision += 1
        obj = copy.deepcopy(obj)
        (obj.get("metadata") or {}).pop("resourceVersion", None)
        self.store[key] = (obj, self.revision)
        self.cache.write_through(key, copy.deepcopy(obj), self.revision)

    def delete(self, key: str) -> None:
        self.revision += 1
        self.store.pop(key, None)
        self.cache.write_through(key, None, self.revision)

    def get(self, key: str) -> Obj | None:
        found = self.store.get(key)
        return None if found is None else found[0]

    def items(self, prefix: str) -> list[tuple[str, Obj]]:
        return sorted((k, v[0]) for k, v in self.store.items() if k.startswith(prefix))

    # -- the nodes -----------------------------------------------------------------------

    def kubelet(self, ready: Callable[[Obj], bool] = lambda pod: True, node: str = "n1") -> None:
        """One round of every node: bind and start new pods (Ready when ``ready(pod)``),
        finish graceful deletions (the key goes)."""
        stamp = events.rfc3339(self.now)
        for key, pod in self.items("/registry/pods/"):
            meta = pod.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                self.delete(key)
                continue
            status = pod.get("status") or {}
            is_ready = ready(pod)
            conds = status.get("conditions") or []
            was_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
            if pod.get("spec", {}).get("nodeName") and status.get("phase") == "Running" and was_ready == is_ready:
                continue
            new = copy.deepcopy(pod)
            new.setdefault("spec", {})["nodeName"] = new["spec"].get("nodeName") or node
            new["status"] = {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if is_ready else "False", "lastTransitionTime": stamp}],
            }
            self.put(key, new)

    def tick(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


def run_until_quiet(
    sim: SimCluster,
    controllers: Iterable[Any],
    rounds: int = 50,
    after_each: Callable[[SimCluster], None] | None = None,
) -> int:
    """Sync every primary key of every controller until no sync writes anything; the number
    of rounds it took. ``after_each`` runs after every transaction (to check invariants)."""
    for n in range(rounds):
        wrote = False
        for c in controllers:
            for key in sim.cache.keys(c.primary):
                actions = c.sync(key, sim.cache, sim.now)
                if actions and sim.txn(actions):
                    wrote = True
                    if after_each is not None:
                        after_each(sim)
        if not wrote:
            return n
    raise AssertionError(f"no convergence in {rounds} rounds")


def kubelet_one(sim: SimCluster, pick: Callable[[list[str]], str], ready: Callable[[Obj], bool] = lambda pod: True) -> bool:
    """One node action on one pod chosen by ``pick`` (start it, make it ready, or finish
    its deletion); False when no pod needs anything."""
    stamp = events.rfc3339(sim.now)
    todo: list[str] = []
    for key, pod in sim.items("/registry/pods/"):
        status = pod.get("status") or {}
        is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        if (pod.get("metadata") or {}).get("deletionTimestamp") or status.get("phase") != "Running" or is_ready != ready(pod):
            todo.append(key)
    if not todo:
        return False
    key = pick(todo)
    pod = copy.deepcopy(sim.get(key))
    assert pod is not None
    if pod["metadata"].get("deletionTimestamp"):
        sim.delete(key)
        return True
    pod.setdefault("spec", {})["nodeName"] = pod["spec"].get("nodeName") or "n1"
    ok = ready(pod)
    pod["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ok else "False", "lastTransitionTime": stamp}],
    }
    sim.put(key, pod)
    return True
