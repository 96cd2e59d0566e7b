"""kubeform.agent.node: taints from the config and allocatable next to capacity."""

from __future__ import annotations

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
