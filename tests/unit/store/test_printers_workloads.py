"""Workload tables (Job, CronJob, claims and volumes) as kubectl prints them:
tests/data/printers/workload_tables.yaml."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.store import printers

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "workload_tables.yaml").read_text()
)
NOW = datetime.datetime.fromisoformat(DATA["now"].replace("Z", "+00:00"))
CREATED = (NOW - datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _filled(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    meta = dict(obj.get("metadata") or {})
    meta.setdefault("namespace", "default")
    meta.setdefault("creationTimestamp", CREATED)
    return dict(obj, kind=kind, metadata=meta)


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_workload_table(case: dict[str, Any]) -> None:
    objs = [_filled(o, case["kind"]) for o in case["objects"]]
    text = printers.get_table(case["kind"], objs, wide=bool(case.get("wide")), all_namespaces=False, now=NOW)
    got = [re.split(r" {3,}", line.strip()) for line in text.splitlines()]
    assert got == [[str(c) for c in row] for row in case["lines"]]
