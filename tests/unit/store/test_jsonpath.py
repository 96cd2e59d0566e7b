"""kubectl's JSONPath: tests/data/printers/jsonpath.yaml (template + data -> output or error)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.store import jsonpath

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "jsonpath.yaml").read_text()
)


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_jsonpath(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(jsonpath.JSONPathError) as err:
            jsonpath.render(case["template"], DATA["data"])
        assert case["error"] in str(err.value)
        assert "\n" not in str(err.value)
    else:
        assert jsonpath.render(case["template"], DATA["data"]) == case["output"]


@pytest.mark.parametrize(
    ("expr", "template"),
    [("metadata.name", "{.metadata.name}"), (".metadata.name", "{.metadata.name}"), ("{.spec}", "{.spec}")],
)
def test_relaxed(expr: str, template: str) -> None:
    assert jsonpath.relaxed(expr) == template
