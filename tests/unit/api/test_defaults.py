"""Server-side defaults, one data file per case: tests/data/defaults/<case>.yaml (input -> expected)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform import yamlsrc
from kubeform.api import defaults

CASES = Path(__file__).parent.parent.parent / "data" / "defaults"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_defaults(case: str) -> None:
    data = yamlsrc.load_file(CASES / case)
    got = defaults.apply_defaults(data["input"])
    assert got == defaults.plain(data["expected"])


def test_input_not_modified() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 1}]},
    }
    defaults.apply_defaults(obj)
    assert obj == {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 1}]},
    }


@pytest.mark.parametrize(
    ("image", "policy"),
    [("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.2", "IfNotPresent"),
     ("reg:5000/nginx", "Always"), ("reg:5000/nginx:1", "IfNotPresent"), ("a@sha256:00", "IfNotPresent")],
)  # fmt: skip
def test_image_pull_policy(image: str, policy: str) -> None:
    assert defaults._image_pull_policy(image) == policy
