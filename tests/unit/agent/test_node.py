"""kubeform.agent.node: taints from the config and allocatable next to capacity."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent import node
from kubeform.agent.config import ConfigError

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parents[2] / "data/agent/taints.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_parse_taints(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(ConfigError) as err:
            node.parse_taints(case["entries"], "/etc/kubeform/agent.json")
        assert str(err.value).startswith("/etc/kubeform/agent.json: field 'taints': ")
        assert case["error"] in str(err.value)
    else:
        assert node.parse_taints(case["entries"]) == case["taints"]


@pytest.mark.parametrize(
    ("cpu", "memory_kib", "want"),
    [
        (2, 2040000, {"cpu": "1900m", "memory": "1777856Ki", "pods": "110"}),
        (1, 262144, {"cpu": "900m", "memory": "0Ki", "pods": "110"}),
        (0, 1000, {"cpu": "0", "memory": "0Ki", "pods": "110"}),  # never below 0
    ],
)
def test_allocatable_is_capacity_minus_reserve(cpu: int, memory_kib: int, want: dict[str, str]) -> None:
    assert node.allocatable(cpu, memory_kib) == want


def test_render_node_publishes_taints_and_allocatable() -> None:
    facts = {"cpu": 4, "memory_kib": 8 * 1024 * 1024}
    taints = node.parse_taints(["node-role.kubernetes.io/control-plane:NoSchedule"])
    got = node.render_node("m1", ["master"], facts, None, None, taints)
    assert got["spec"] == {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}
    assert got["status"]["capacity"] == {"cpu": "4", "memory": "8388608Ki", "pods": "110"}
    assert got["status"]["allocatable"] == {"cpu": "3900m", "memory": "8126464Ki", "pods": "110"}
    assert "taints" not in node.render_node("w1", ["worker"], facts, None)["spec"]


def test_allocatable_feeds_the_scheduler() -> None:
    """The Node the agent writes is what the scheduler reads: allocatable, not capacity."""
    from kubeform.reconciler.scheduler.nodeinfo import NodeInfo

    info = NodeInfo(node.render_node("w1", ["worker"], {"cpu": 2, "memory_kib": 1048576}, None))
    assert (info.alloc_cpu, info.alloc_memory, info.alloc_pods) == (1900, (1048576 - 262144) * 1024, 110)


# -- host usage in the heartbeat (for `kubeform top nodes`) ---------------------------------

STAT_0 = "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n"
STAT_1 = "cpu  400 0 200 1000 200 0 0 0 0 0\n"  # +400 busy of +800 in all: half of 2 CPUs
MEMINFO = "MemTotal:       2048000 kB\nMemFree:         100000 kB\nMemAvailable:    1024000 kB\n"


def test_node_usage_rate_after_a_window_and_memory_in_use() -> None:
    from kubeform.api import usage

    assert node.parse_proc_stat(STAT_0) == (200, 1000)
    assert node.parse_meminfo_used(MEMINFO) == 1024000 * 1024
    meter = node.NodeUsage(2)
    t0 = 1767268800.0  # 2026-01-01T12:00:00Z
    first = meter.sample(STAT_0, MEMINFO, t0)
    assert first == {"memory": "1024000Ki", "window": "0s", "timestamp": "2026-01-01T12:00:00Z"}
    assert meter.sample(STAT_1, MEMINFO, t0 + 5) == dict(first, timestamp="2026-01-01T12:00:05Z")  # window not over
    rec = meter.sample(STAT_1, MEMINFO, t0 + 15)
    assert rec["cpu"] == "1000m" and rec["window"] == "15s"
    value = json.loads(node.render_heartbeat("kf-node1", datetime.datetime(2026, 1, 1, 12, 0, 15), rec))
    got = usage.node_usage(value)
    assert got is not None and got.total == usage.Sample(1000, 1024000 * 1024)
