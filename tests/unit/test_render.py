"""Output shapes: tables, ages, secret masking, diffs."""

from __future__ import annotations

import datetime

from kubeform.cluster import render

NOW = datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)


def test_age() -> None:
    assert render.age("2024-01-01T23:59:30Z", NOW) == "30s"
    assert render.age("2024-01-01T23:00:00Z", NOW) == "1h"
    assert render.age("2024-01-01T00:00:00Z", NOW) == "24h"
    assert render.age("2023-12-01T00:00:00Z", NOW) == "32d"
    assert render.age(None, NOW) == "<unknown>"


def test_service_table() -> None:
    svc = {
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-01-01T23:59:00Z"},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}], "selector": {"app": "web"}},
    }
    text = render.get_table("Service", [svc], wide=True, all_namespaces=True, now=NOW)
    assert text.splitlines() == [
        "NAMESPACE   NAME   TYPE       CLUSTER-IP   EXTERNAL-IP   PORT(S)        AGE   SELECTOR",
        "default     web    NodePort   10.96.0.10   <none>        80:30080/TCP   1m    app=web",
    ]


def test_secret_masked_and_diffed() -> None:
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"p": "c2VjcmV0"}}
    desired = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"p": "b3RoZXI="}}
    text = render.diff_text(live, desired, "secret/s")
    assert "c2VjcmV0" not in text and "b3RoZXI=" not in text
    assert "len 6" in text and "len 5" in text
    assert "c2VjcmV0" in render.diff_text(live, desired, "secret/s", show_secrets=True)
    assert render.diff_text(live, live, "secret/s") == ""


def test_diff_ignores_key_order() -> None:
    a = {"kind": "ConfigMap", "metadata": {"name": "c", "uid": "1"}, "data": {"x": "1", "y": "2"}}
    b = {"data": {"y": "2", "x": "1"}, "metadata": {"uid": "1", "name": "c"}, "kind": "ConfigMap"}
    assert render.diff_text(a, b, "cm/c") == ""
    assert render.to_yaml(render.canonical(b)).startswith("kind: ConfigMap\nmetadata:\n")
