"""`get pods` columns as kubectl prints them: tests/data/printers/pod_status.yaml."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.store import pod_status, printers

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "pod_status.yaml").read_text()
)
NOW = datetime.datetime.fromisoformat(DATA["now"].replace("Z", "+00:00"))


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_pod_columns(case: dict[str, Any]) -> None:
    assert pod_status.pod_columns(case["pod"], NOW) == case["expected"]
    if "wide" in case:
        assert pod_status.pod_wide(case["pod"]) == case["wide"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "<invalid>"), (-1, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (330, "5m30s"),
     (600, "10m"), (3 * 3600, "3h"), (3 * 3600 + 60 * 5, "3h5m"), (8 * 3600, "8h"),
     (47 * 3600, "47h"), (51 * 3600, "2d3h"), (8 * 86400, "8d"), (800 * 86400, "2y70d"),
     (9 * 365 * 86400, "9y")],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert pod_status.human_duration(seconds) == text


def test_get_pods_table_has_kubectls_columns() -> None:
    pods = [dict(c["pod"], metadata={"name": f"p{i}", "namespace": "default",
                                     "creationTimestamp": "2026-12-01T11:00:00Z",
                                     **(c["pod"].get("metadata") or {})})
            for i, c in enumerate(DATA["cases"][:2])]
    text = printers.get_table("Pod", pods, wide=True, all_namespaces=False, now=NOW)
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert "NOMINATED NODE   READINESS GATES" in lines[0]
    assert lines[2].split() == ["p1", "2/2", "Running", "0", "60m", "10.244.1.5", "kf-node1", "<none>", "<none>"]
    narrow = printers.get_table("Pod", pods, wide=False, all_namespaces=False, now=NOW).splitlines()
    assert narrow[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
