"""`get|describe|delete -f`'s object references (kubeform.store.manifest_refs), data-driven
from tests/data/store/manifest_refs.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.store import manifest_refs
from kubeform.store.manifests import parse_text

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "store" / "manifest_refs.yaml").read_text()
)


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_refs_of(case: dict[str, Any]) -> None:
    docs = parse_text(case["text"], "m.yaml")
    if "want" in case:
        got = manifest_refs.refs_of(docs, case["namespace"])
        assert [[r.kind.resource, r.namespace, r.name] for r in got] == case["want"]
        return
    with pytest.raises(UserError) as err:
        manifest_refs.refs_of(docs, case["namespace"])
    if "error" in case:
        assert str(err.value) == case["error"]
    else:
        assert case["error_contains"] in str(err.value)
