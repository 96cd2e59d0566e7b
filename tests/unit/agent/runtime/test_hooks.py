"""hooks: lifecycle hook decisions (tests/data/agent_runtime/hooks) and the runner
(exec, httpGet, sleep, tcpSocket) against real processes and a local HTTP server."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import hooks

from .cases import DATA

CASES = yaml.safe_load((DATA / "hooks" / "cases.yaml").read_text())


@pytest.mark.parametrize("case", CASES["handler"], ids=lambda c: c["name"])
def test_handler(case: dict[str, Any]) -> None:
    h = hooks.handler(case["container"], case["which"])
    assert (hooks.kind_of(h) if h is not None else None) == case["kind"]


@pytest.mark.parametrize("case", CASES["stop_grace"], ids=str)
def test_stop_grace(case: dict[str, Any]) -> None:
    assert hooks.stop_grace(case["grace"], case["took"]) == case["want"]


@pytest.mark.parametrize("case", CASES["runs_pre_stop"], ids=str)
def test_runs_pre_stop(case: dict[str, Any]) -> None:
    assert hooks.runs_pre_stop(case["container"], case["grace"]) is case["want"]


@pytest.mark.parametrize("case", CASES["failure_message"], ids=lambda c: hooks.kind_of(c["handler"]))
def test_failure_message(case: dict[str, Any]) -> None:
    outcome = hooks.Outcome(False, case["outcome"]["error"], case["outcome"]["output"], 0.1)
    assert hooks.failure_message(case["handler"], "c", CASES["pod"], outcome) == case["want"]


def _sh(argv: list[str]) -> list[str]:
    return list(argv)  # the "container" is this host


def test_exec_success_failure_and_output() -> None:
    ok = hooks.run({"exec": {"command": ["sh", "-c", "echo hi"]}}, {}, "", _sh, None)
    assert ok.ok and ok.output == "hi\n"
    bad = hooks.run({"exec": {"command": ["sh", "-c", "echo nope; exit 3"]}}, {}, "", _sh, None)
    assert not bad.ok and bad.error == "command 'sh -c echo nope; exit 3' exited with 3: " and bad.output == "nope\n"


def test_exec_is_cut_at_its_timeout_and_when_cancelled() -> None:
    started = time.monotonic()
    out = hooks.run({"exec": {"command": ["sleep", "30"]}}, {}, "", _sh, 0.5)
    assert not out.ok and "did not finish in time" in out.error and time.monotonic() - started < 5
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    out = hooks.run({"exec": {"command": ["sleep", "30"]}}, {}, "", _sh, None, cancelled=flag.is_set)
    assert not out.ok and out.took < 5


def test_sleep_runs_its_seconds_within_the_timeout() -> None:
    out = hooks.run({"sleep": {"seconds": 0.3}}, {}, "", _sh, None)
    assert out.ok and 0.25 < out.took < 3
    out = hooks.run({"sleep": {"seconds": 30}}, {}, "", _sh, 0.3)
    assert not out.ok and out.error.startswith("interrupted after") and out.took < 3


def test_tcp_socket_fails_when_it_runs_as_in_kubernetes() -> None:
    out = hooks.run({"tcpSocket": {"port": 80}}, {}, "127.0.0.1", _sh, None)
    assert not out.ok and out.error.startswith("invalid handler: tcpSocket")


@pytest.fixture
def server() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(500 if self.path == "/broken" else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], seen
    httpd.shutdown()


def test_http_get_any_answer_runs_no_answer_fails(server: tuple[int, list[str]]) -> None:
    port, seen = server
    container = {"ports": [{"name": "web", "containerPort": port}]}
    assert hooks.run({"httpGet": {"path": "/quit", "port": "web"}}, container, "127.0.0.1", _sh, 5).ok
    assert hooks.run({"httpGet": {"path": "/broken", "port": port}}, {}, "127.0.0.1", _sh, None).ok  # as the kubelet
    assert seen == ["/quit", "/broken"]
    out = hooks.run({"httpGet": {"path": "/", "port": 1}}, {}, "127.0.0.1", _sh, 5)
    assert not out.ok and out.error.startswith('Get "http://127.0.0.1:1/"')
    out = hooks.run({"httpGet": {"path": "/", "port": "nope"}}, {}, "127.0.0.1", _sh, 5)
    assert not out.ok and "not found" in out.error
