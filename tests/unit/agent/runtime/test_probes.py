"""probes: the state machine, step by step (tests/data/agent_runtime/probes), and the runners."""

from __future__ import annotations

import http.server
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime import probes

from .cases import case_files, load


@pytest.mark.parametrize("path", case_files("probes"), ids=lambda p: p.stem)
def test_state_machine(path: Path) -> None:
    """Each step: which probes are due at ``at`` (seconds after start), their results, the verdict."""
    case = load(path)
    container = case["container"]
    states: dict[str, probes.ProbeState] = {}
    for i, step in enumerate(case["steps"]):
        at = float(step["at"])
        due = probes.due_probes(container, states, 0.0, at)
        assert due == step.get("due", []), f"step {i} at {at}: due {due}"
        for kind, ok in (step.get("results") or {}).items():
            probe = container[probes.FIELDS[kind]]
            states[kind] = probes.record(probe, states.get(kind, probes.initial(kind)), bool(ok), at, "" if ok else "failed")
        v = probes.verdict(container, states, True)
        want: dict[str, Any] = step.get("verdict") or {}
        got = {"started": v.started, "ready": v.ready, "kill": v.kill}
        assert {k: got[k] for k in want} == want, f"step {i} at {at}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 200 if self.path == "/ok" and self.headers.get("Host") == "example.test" else 500
        if self.path == "/redirect":
            code = 302
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_port() -> Any:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_http_runner(http_port: int) -> None:
    container = {"ports": [{"name": "web", "containerPort": http_port}]}
    ok = {"httpGet": {"path": "/ok", "port": "web", "httpHeaders": [{"name": "Host", "value": "example.test"}]}}
    assert probes.run_probe(ok, container, "127.0.0.1", None) == (True, "")
    assert probes.run_probe({"httpGet": {"path": "/redirect", "port": http_port}}, container, "127.0.0.1", None)[0]
    failed, message = probes.run_probe({"httpGet": {"path": "/ok", "port": http_port}}, container, "127.0.0.1", None)
    assert not failed and message == "HTTP probe failed with statuscode: 500"


def test_tcp_and_exec_runners() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        assert probes.run_probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1", None) == (True, "")
    finally:
        listener.close()
    assert not probes.run_probe({"tcpSocket": {"port": port}}, {}, "127.0.0.1", None)[0]
    assert probes.run_probe({"exec": {"command": ["true"]}}, {}, "", ["true"]) == (True, "")
    assert probes.run_probe({"exec": {}}, {}, "", ["sh", "-c", "echo broken; exit 3"]) == (False, "broken")
    assert not probes.run_probe({"grpc": {"port": 1}}, {}, "", None)[0]
    assert probes.run_probe({"httpGet": {"port": "nosuch"}}, {}, "127.0.0.1", None) == (
        False, "port 'nosuch' not found in the container's ports"
    )
