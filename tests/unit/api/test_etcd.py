"""The agent's etcd client finds the gateway prefix an endpoint serves (/v3 or /v3beta).

A tiny stdlib HTTP server on loopback plays an etcd 3.3 gateway (404 with a plain-text
body on every /v3/... path, the API under /v3beta/...) or a 3.4 one; the tests count
which paths the client asked for.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from kubeform.api.etcd import EtcdClient, gateway_path, path_not_served


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class FakeGateway(ThreadingHTTPServer):
    """An etcd JSON gateway that serves its API under ``prefix`` only."""

    def __init__(self, prefix: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.prefix = prefix
        self.paths: list[str] = []

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


ANSWERS: dict[str, dict[str, Any]] = {
    "/kv/range": {
        "header": {"revision": "7"},
        "kvs": [{"key": _b64("/a"), "value": _b64("v"), "mod_revision": "5", "create_revision": "5"}],
        "count": "1",
    },
    "/kv/put": {"header": {"revision": "8"}},
    "/lease/grant": {"ID": "42", "TTL": "10"},
}


class _Handler(BaseHTTPRequestHandler):
    server: FakeGateway

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.paths.append(self.path)
        prefix = self.server.prefix
        rest = self.path[len(prefix) :] if self.path.startswith(prefix + "/") else None
        if prefix == "/v3beta":
            # etcd 3.3 keeps lease revoke/timetolive under kv/.
            answers = {**ANSWERS, "/kv/lease/timetolive": {"TTL": "9"}, "/kv/lease/revoke": {}}
        else:
            answers = {**ANSWERS, "/lease/timetolive": {"TTL": "9"}}
        if rest is None or rest not in answers:
            if prefix == "/v3" and rest == "/lease/revoke":
                self._send(404, json.dumps({"error": "etcdserver: requested lease not found", "code": 5}))
                return
            self._send(404, "404 page not found\n", "text/plain")
            return
        self._send(200, json.dumps(answers[rest]))

    def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``server.paths``."""


def _serve(prefix: str) -> Iterator[FakeGateway]:
    server = FakeGateway(prefix)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def etcd33() -> Iterator[FakeGateway]:
    yield from _serve("/v3beta")


@pytest.fixture
def etcd34() -> Iterator[FakeGateway]:
    yield from _serve("/v3")


def test_an_etcd_33_endpoint_is_asked_under_v3beta_after_one_probe(etcd33: FakeGateway) -> None:
    client = EtcdClient([etcd33.endpoint], timeout=5)
    kvs, revision = client.range("/a")
    assert [(kv.key, kv.value) for kv in kvs] == [("/a", "v")] and revision == 7
    assert client.put("/a", "w") == 8
    assert client.lease_grant(10) == 42
    assert client.lease_ttl(42) == 9
    client.lease_revoke(42)
    assert etcd33.paths == [
        "/v3/kv/range",
        "/v3beta/kv/range",
        "/v3beta/kv/put",
        "/v3beta/lease/grant",
        "/v3beta/kv/lease/timetolive",
        "/v3beta/kv/lease/revoke",
    ]


def test_an_etcd_34_endpoint_stays_on_v3_even_for_a_not_found_error(etcd34: FakeGateway) -> None:
    client = EtcdClient([etcd34.endpoint], timeout=5)
    client.lease_revoke(1)  # a gRPC NotFound: JSON 404, the path is served
    assert client.get("/a") is not None
    assert etcd34.paths == ["/v3/lease/revoke", "/v3/kv/range"]


def test_each_endpoint_has_its_own_prefix(etcd33: FakeGateway, etcd34: FakeGateway) -> None:
    client = EtcdClient([etcd34.endpoint, etcd33.endpoint], timeout=5)
    client.get("/a")
    etcd34.shutdown()  # the 3.4 member goes away: the client moves on to the 3.3 one
    etcd34.server_close()
    client.get("/a")
    client.get("/a")
    assert etcd33.paths == ["/v3/kv/range", "/v3beta/kv/range", "/v3beta/kv/range"]


@pytest.mark.parametrize(
    ("prefix", "path", "expected"),
    [
        ("/v3", "/v3/kv/range", "/v3/kv/range"),
        ("/v3", "/v3/lease/revoke", "/v3/lease/revoke"),
        ("/v3beta", "/v3/kv/range", "/v3beta/kv/range"),
        ("/v3beta", "/v3/watch", "/v3beta/watch"),
        ("/v3beta", "/v3/lease/keepalive", "/v3beta/lease/keepalive"),
        ("/v3beta", "/v3/lease/revoke", "/v3beta/kv/lease/revoke"),
        ("/v3beta", "/v3/lease/timetolive", "/v3beta/kv/lease/timetolive"),
        ("/v3beta", "/health", "/health"),
    ],
)
def test_gateway_path(prefix: str, path: str, expected: str) -> None:
    assert gateway_path(prefix, path) == expected


def test_only_a_plain_text_404_means_the_path_is_not_served() -> None:
    assert path_not_served(404, b"404 page not found\n")
    assert not path_not_served(404, b'{"error": "lease not found", "code": 5}')
    assert not path_not_served(200, b"{}")
