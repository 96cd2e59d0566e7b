"""The informer's cache and when it tells the manager (no etcd: apply() is fed by hand)."""

from __future__ import annotations

import json
from typing import Any

from kubeform.agent.runtime.informer import Informer


def test_apply_asks_relevant_with_the_object_before_and_after() -> None:
    seen: list[tuple[Any, Any]] = []

    def relevant(before: Any, after: Any) -> bool:
        seen.append((before, after))
        return bool(after) and after.get("here", False)

    inf = Informer(None, "/registry/pods/", lambda: None, relevant=relevant)  # type: ignore[arg-type]
    assert inf.apply("PUT", "/registry/pods/a", json.dumps({"here": True}), 5) is True
    assert inf.apply("PUT", "/registry/pods/a", json.dumps({"here": False}), 6) is False
    assert inf.apply("DELETE", "/registry/pods/a", "", 7) is False
    assert seen == [(None, {"here": True}), ({"here": True}, {"here": False}), ({"here": False}, None)]
    assert inf.snapshot() == {} and inf.revision == 7


def test_without_relevant_every_change_counts() -> None:
    inf = Informer(None, "/registry/pods/", lambda: None)  # type: ignore[arg-type]
    assert inf.apply("PUT", "/registry/pods/a", "{}", 3) is True
    assert inf.snapshot() == {"/registry/pods/a": (3, {})}
