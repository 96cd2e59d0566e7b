"""kubeform.api.objects against tests/data/api/objects.yaml (data-driven)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import objects

CASES: dict[str, Any] = yaml.safe_load((Path(__file__).parents[2] / "data/api/objects.yaml").read_text())


@pytest.mark.parametrize("case", CASES["fnv32a"], ids=lambda c: repr(c["text"]))
def test_fnv32a(case: dict[str, Any]) -> None:
    assert objects.fnv32a(case["text"].encode()) == case["hash"]


@pytest.mark.parametrize("case", CASES["safe_encode"], ids=lambda c: str(c["number"]))
def test_safe_encode(case: dict[str, Any]) -> None:
    assert objects.safe_encode(case["number"]) == case["out"]


@pytest.mark.parametrize("case", CASES["pod_template_hash"])
def test_pod_template_hash_ignores_key_order(case: dict[str, Any]) -> None:
    a = objects.pod_template_hash(case["template"])
    assert a == objects.pod_template_hash(case["same_as"])
    assert a != objects.pod_template_hash(case["template"], collision_count=1)
    assert set(a) <= set(objects.SAFE_ALPHABET)


@pytest.mark.parametrize("case", CASES["set_condition"], ids=lambda c: c["name"])
def test_set_condition(case: dict[str, Any]) -> None:
    assert objects.set_condition(case["conditions"], case["new"], case["now"]) == case["want"]


def test_controller_ref_round_trip() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "rs", "uid": "u1"}}
    pod = {"metadata": {"ownerReferences": [{"uid": "x"}, objects.new_controller_ref(owner)]}}
    assert objects.is_controlled_by(pod, owner)
    assert objects.controller_ref(pod) == objects.new_controller_ref(owner)
    assert not objects.is_controlled_by({"metadata": {}}, owner)
