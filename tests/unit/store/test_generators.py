"""kubectl's imperative verbs' objects: tests/data/generators/cases.yaml.

Every expected object also passes kubeform's validation (what `apply` checks), so the
verbs never build something `apply` would refuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.store import applier, generators
from kubeform.store.manifests import Doc

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "generators" / "cases.yaml").read_text()
)


def _build(case: dict[str, Any]) -> dict[str, Any]:
    builder = getattr(generators, case["builder"])
    if "target" in case:
        return builder(case["target"], **case["kwargs"])  # type: ignore[no-any-return]
    return builder(**case["kwargs"])  # type: ignore[no-any-return]


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_generator(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(UserError) as err:
            _build(case)
        assert case["error"] in str(err.value)
        return
    obj = _build(case)
    assert obj == case["expected"]
    _, warnings = applier.validate_docs([Doc("<test>", 1, obj)], strict=True)
    assert warnings == []


@pytest.mark.parametrize(
    ("image", "name"),
    [("nginx", "nginx"), ("nginx:1.29", "nginx"), ("registry.k8s.io/e2e-test-images/agnhost:2.39", "agnhost"),
     ("localhost:5000/My_App@sha256:00", "my-app")],
)
def test_container_name(image: str, name: str) -> None:
    assert generators.container_name(image) == name
