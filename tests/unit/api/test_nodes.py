"""Node readiness from the heartbeat lease."""

from __future__ import annotations

import datetime

from kubeform.api import nodes
from kubeform.store import printers as render

NOW = datetime.datetime(2024, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
NODE = {"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/master": "", "node-role.kubernetes.io/worker": ""}}}


def test_ready_with_fresh_lease() -> None:
    lease = {"spec": {"renewTime": "2024-01-01T11:59:50Z", "leaseDurationSeconds": 40}}
    assert render.node_status(nodes.node_view(NODE, lease, NOW)) == "Ready"
    assert render.node_roles(NODE) == "master,worker"


def test_stale_or_missing_lease() -> None:
    stale = {"spec": {"renewTime": "2024-01-01T11:58:00Z", "leaseDurationSeconds": 40}}
    assert render.node_status(nodes.node_view(NODE, stale, NOW)) == "NotReady"
    assert render.node_status(nodes.node_view(NODE, None, NOW)) == "NotReady"
    assert render.node_status({"metadata": {}}) == "Unknown"


def test_lease_without_renew_time_counts_by_existence() -> None:
    assert nodes.lease_fresh({"spec": {"holderIdentity": "n1"}}, NOW)
