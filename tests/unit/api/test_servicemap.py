"""servicemap: keys, canonical encoding, tolerant decoding, headless/DNS helpers."""

from __future__ import annotations

from kubeform.api import servicemap


def test_key_round_trip() -> None:
    k = servicemap.key("demo", "web")
    assert k == "/registry/kubeform/servicemap/demo/web"
    assert servicemap.name_of(k) == ("demo", "web")


def test_encode_is_canonical_and_decode_is_tolerant() -> None:
    a = {"name": "web", "ports": [], "namespace": "demo"}
    b = {"namespace": "demo", "ports": [], "name": "web"}
    assert servicemap.encode(a) == servicemap.encode(b) == '{"name":"web","namespace":"demo","ports":[]}'
    assert servicemap.decode(servicemap.encode(a)) == a
    for bad in ("", "{", "[]", '{"ports": 3}', "null"):
        assert servicemap.decode(bad) is None


def test_headless_and_ready_ips() -> None:
    entry = {"clusterIP": "None", "ports": [], "addresses": [{"ip": "10.244.2.3"}, {"ip": "10.244.1.9"}, {"ip": "10.244.1.9"}]}
    assert servicemap.is_headless(entry)
    assert not servicemap.is_headless({"clusterIP": "10.96.0.10"})
    assert servicemap.ready_ips(entry) == ["10.244.1.9", "10.244.2.3"]
