"""Output shapes: tables, ages, secret masking, diffs."""

from __future__ import annotations

import datetime

from kubeform.store import printers as render

NOW = datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)


def test_age() -> None:
    assert render.age("2024-01-01T23:59:30Z", NOW) == "30s"
    assert render.age("2024-01-01T23:00:00Z", NOW) == "60m"  # kubectl: HumanDuration
    assert render.age("2024-01-01T20:30:00Z", NOW) == "3h30m"
    assert render.age("2024-01-01T00:00:00Z", NOW) == "24h"
    assert render.age("2023-12-01T00:00:00Z", NOW) == "32d"
    assert render.age("2024-01-01T23:54:30Z", NOW) == "5m30s"
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
        "default     web    NodePort   10.96.0.10   <none>        80:30080/TCP   60s   app=web",
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


def test_secret_digest_is_keyed() -> None:
    """With the cluster's key a short secret's hash is not the public sha256 of the value
    (sha256('admin') is in every lookup table), but it is stable, so changes still show."""
    plain = render.secret_digest("YWRtaW4=")
    assert plain.startswith("<secret sha256:8c6976e5b541")  # sha256("admin"): guessable
    keyed = render.secret_digest("YWRtaW4=", b"k" * 32)
    assert "8c6976e5b541" not in keyed and keyed.endswith("len 5>")
    assert keyed == render.secret_digest("YWRtaW4=", b"k" * 32)
    assert keyed != render.secret_digest("YWRtaW4=", b"j" * 32)
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"u": "YWRtaW4="}}
    desired = {**live, "data": {"u": "cm9vdA=="}}
    text = render.diff_text(live, desired, "secret/s", digest_key=b"k" * 32)
    assert "8c6976e5b541" not in text and "YWRtaW4=" not in text and "len 4" in text
