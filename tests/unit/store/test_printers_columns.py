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
    text = printers.get_table(case["kind"], objs, wide=case.get("wide", False), all_namespaces=False, now=NOW)
    assert text == case["table"]
