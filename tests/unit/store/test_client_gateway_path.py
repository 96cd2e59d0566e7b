"""The operator-side store reaches etcd 3.3's gateway (/v3beta) as well as 3.4's (/v3).

A fake etcd 3.3 gateway over TLS on loopback (certificate from the cluster directory's
CA, client certificate required): /version says 3.3.11, every /v3/... path is a
plain-text 404, the API lives under /v3beta/. Store.from_cluster must find its way there.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.store.client import Store


class _Gateway(ThreadingHTTPServer):
    paths: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Gateway

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        if self.path == "/version":
            self._send(200, {"etcdserver": "3.3.11", "etcdcluster": "3.3.0"})
        else:
            self._text404()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.paths.append(self.path)
        if self.path == "/v3beta/kv/range":
            obj = base64.b64encode(json.dumps({"metadata": {"name": "a"}}).encode()).decode()
            key = base64.b64encode(b"/registry/x/a").decode()
            self._send(200, {"header": {"revision": "3"}, "kvs": [{"key": key, "value": obj, "mod_revision": "2"}]})
        else:
            self._text404()

    def _text404(self) -> None:
        body = b"404 page not found\n"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send(self, status: int, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads ``server.paths``."""


@pytest.fixture
def etcd33(tmp_path: Path) -> Iterator[tuple[ClusterDir, _Gateway]]:
    server = _Gateway(("127.0.0.1", 0), _Handler)
    server.paths = []
    cd = ClusterDir.create(tmp_path / "cl", "t", [f"https://127.0.0.1:{server.server_address[1]}"])
    cd.issue("etcd-fake", ["127.0.0.1", "localhost"], client=True, server=True)
    crt, key = cd.cert_paths("etcd-fake")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(crt), str(key))
    ctx.load_verify_locations(str(cd.ca_cert))
    ctx.verify_mode = ssl.CERT_REQUIRED
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cd, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_store_reads_through_v3beta_from_an_etcd_33(etcd33: tuple[ClusterDir, _Gateway]) -> None:
    cd, server = etcd33
    store = Store.from_cluster(cd, timeout=5)
    assert [o for _, o in store.items("/registry/x/")] == [{"metadata": {"name": "a", "resourceVersion": "2"}}]
    store.items("/registry/x/")
    # /v3 answers a plain-text 404 once; /v3beta is remembered from then on (no /version)
    assert server.paths == ["/v3/kv/range", "/v3beta/kv/range", "/v3beta/kv/range"]
