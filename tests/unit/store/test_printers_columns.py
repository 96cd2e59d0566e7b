"""`get` tables per kind as kubectl prints them: tests/data/printers/columns.yaml."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.store import printers

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "columns.yaml").read_text()
)
NOW = datetime.datetime.fromisoformat(DATA["now"].replace("Z", "+00:00"))


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_columns(case: dict[str, Any]) -> None:
    objs = [{"kind": case["kind"], **o} for o in case["objects"]]
    options = printers.TableOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in case.get("options", {}).items()})
    text = printers.get_table(case["kind"], objs, wide=case.get("wide", False), all_namespaces=False, now=NOW,
                              options=options)
    assert text == case["table"]


@pytest.mark.parametrize(
    ("expr", "order"),
    [(".metadata.name", ["a", "b", "c"]), ("{.spec.replicas}", ["c", "b", "a"]),
     ("metadata.creationTimestamp", ["b", "a", "c"]), (".status.missing", ["a", "b", "c"])],
)
def test_sort_by(expr: str, order: list[str]) -> None:
    """--sort-by: numbers as numbers (10 after 9), timestamps as text; missing keeps order."""
    objs = [
        {"metadata": {"name": "a", "creationTimestamp": "2026-12-01T11:00:00Z"}, "spec": {"replicas": 10}},
        {"metadata": {"name": "b", "creationTimestamp": "2026-12-01T10:00:00Z"}, "spec": {"replicas": 9}},
        {"metadata": {"name": "c", "creationTimestamp": "2026-12-01T12:00:00Z"}, "spec": {"replicas": 1}},
    ]
    assert [o["metadata"]["name"] for o in sorted(objs, key=printers.sort_key(expr))] == order
