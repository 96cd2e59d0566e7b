"""`kubeform get hpa`: kubectl's TARGETS column (``cpu: 40%/50%``) from spec and status."""

from __future__ import annotations

from typing import Any

from kubeform.store.printers import _hpa_targets


def _hpa(metrics: list[dict[str, Any]], current: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"spec": {"metrics": metrics}, "status": {"currentMetrics": current} if current is not None else {}}


CPU = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
MEM = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}}


def test_targets_like_kubectl() -> None:
    assert _hpa_targets(_hpa([CPU])) == "cpu: <unknown>/50%"
    cur = [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40, "averageValue": "40m"}}}]
    assert _hpa_targets(_hpa([CPU], cur)) == "cpu: 40%/50%"
    mem = {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "157286400"}}}
    assert _hpa_targets(_hpa([CPU, MEM], [{"type": ""}, mem])) == "cpu: <unknown>/50%, memory: 157286400/100Mi"
    assert _hpa_targets(_hpa([CPU, MEM, CPU])) == "cpu: <unknown>/50%, memory: <unknown>/100Mi + 1 more..."
    assert _hpa_targets(_hpa([])) == "<none>"
