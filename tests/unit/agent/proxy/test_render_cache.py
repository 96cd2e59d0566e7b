"""The proxier's per-Service render cache (IptablesBackend.rendered): which Services a sync
renders again, from data files: tests/data/agent_proxy/render_cache/<case>.yaml (see the
_README.md there). A Service not rendered again must be the very object the cache held:
that identity is what lets a partial sync find the changed Services with one check each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.proxy import iptables_rules
from kubeform.agent.proxy.proxier import IptablesBackend
from kubeform.api import servicemap

from .golden import DATA, cases, load


def entry(name: str, endpoints: int) -> dict[str, Any]:
    eps = [{"ip": f"10.244.{i // 250}.{i % 250 + 1}", "port": 8080, "node": "kf-node2"} for i in range(endpoints)]
    return {"namespace": "demo", "name": name, "type": "ClusterIP", "clusterIP": f"10.96.0.{ord(name[0])}",
            "sessionAffinity": "None", "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster",
            "internalTrafficPolicy": "Cluster", "addresses": [],
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 0, "endpoints": eps}]}


@pytest.mark.parametrize("path", cases("render_cache"), ids=lambda p: p.stem)
def test_render_cache(path: Path) -> None:
    backend = IptablesBackend(None)  # type: ignore[arg-type]  # rendering only: no host
    before: dict[str, Any] = {}
    for i, step in enumerate(load(path)["steps"]):
        ctx = iptables_rules.context("kf-node1", step.get("node_ips", ["192.168.56.11"]), "10.244.0.0/16")
        items = [(servicemap.key("demo", name), rev, entry(name, n)) for name, (rev, n) in sorted(step["services"].items())]
        rules = backend.rendered(items, ctx)
        again = sorted(k.rsplit("/", 1)[1] for k in rules if rules[k] is not before.get(k))
        assert again == sorted(step["rendered"]), f"step {i + 1}"
        # what the cache holds is what a fresh render gives
        large = iptables_rules.is_large([e for _k, _r, e in items])
        assert all(rules[k] == iptables_rules.render_service(e, ctx, large) for k, _r, e in items), f"step {i + 1}"
        before = rules


def test_cases_exist() -> None:
    assert (DATA / "render_cache" / "revision_changes.yaml").exists()
