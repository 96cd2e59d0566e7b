"""apply's size checks (kubeform.store.applier): nothing stored when one object is too large."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.api import kinds
from kubeform.errors import UserError
from kubeform.store import applier, plan
from kubeform.store.client import MAX_OBJECT_BYTES, MAX_TXN_BYTES, MAX_TXN_OPS
from kubeform.store.manifests import Doc

CM = kinds.BY_KIND["ConfigMap"]


def planned(name: str, size: int, outcome: str = plan.CREATED) -> applier.Planned:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {"k": "x" * size}}
    return applier.Planned(Doc("m.yaml", 3, obj), CM, CM.key("default", name), None, obj, outcome, [])


def test_too_large_object_named_before_any_write() -> None:
    items = [planned("small", 10), planned("huge", MAX_OBJECT_BYTES + 1), planned("later", 10)]
    with pytest.raises(UserError) as info:
        applier.check_sizes(items)
    assert str(info.value).startswith("m.yaml (document 3): configmap/huge is too large to store: ")
    assert "nothing was applied" in str(info.value)


def test_unchanged_objects_are_not_measured() -> None:
    applier.check_sizes([planned("huge", MAX_OBJECT_BYTES + 1, plan.UNCHANGED)])


def test_batches_bounded_by_bytes_and_ops() -> None:
    big = [planned(f"b{i}", 700 * 1024) for i in range(5)]
    batches = applier._batches(big)
    assert all(sum(p.size() for p in b) <= MAX_TXN_BYTES for b in batches) and len(batches) >= 3
    many = [planned(f"s{i}", 10) for i in range(MAX_TXN_OPS * 2 + 1)]
    assert [len(b) for b in applier._batches(many)] == [MAX_TXN_OPS, MAX_TXN_OPS, 1]
