"""A crun container's state from the files the host keeps (kubeform.agent.runtime.bundlestate)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import bundlestate

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "bundlestate" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_container_info(case: dict[str, Any]) -> None:
    info = bundlestate.container_info(
        CASES["meta"], case["shim"], case["exit"], case["shim_alive"], case["crun"], case["age"],
        case.get("runtime_error", ""),
    )
    got = info._asdict()
    assert (got.pop("id"), got.pop("pod_uid"), got.pop("name"), got.pop("attempt")) == ("kfc-u1-web-0", "u1", "web", 0)
    assert got == case["want"]


def test_proc_parsing() -> None:
    p = CASES["proc"]
    assert bundlestate.proc_stat_times(p["stat"]) == p["ticks"]
    assert bundlestate.proc_status_rss(p["status"]) == p["rss"]
    assert bundlestate.proc_status_rss("Name:\tkthreadd\n") == 0
    assert bundlestate.sum_usage([{"ticks": 37, "rss": 5}, {"ticks": 3, "rss": 7}], 100) == {
        "cpu_ns": 400_000_000, "memory_bytes": 12
    }
