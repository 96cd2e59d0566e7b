"""Shims forked from the waiting server (kubeform.agent.runtime.shimserver): a container's
output and exit reach its log and exit.json as with a shim of its own, the forked shim is
recognised as alive by pid and start time, and a dead server is replaced."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime import shim, shimserver
from kubeform.agent.runtime.crun import shim_alive

ROOT = Path(__file__).parents[4]


def _wait_for(path: Path, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = shim.read_state(str(path.parent), path.name)
        if got is not None:
            return got
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


@pytest.fixture
def launcher() -> Any:
    la = shimserver.Launcher(str(ROOT))
    yield la
    la.close()


def test_a_forked_shim_keeps_output_and_exit(tmp_path: Path, launcher: shimserver.Launcher) -> None:
    state, log = tmp_path / "c1", tmp_path / "logs" / "0.log"
    launcher.launch(str(state), str(log), ["sh", "-c", "echo out; echo err >&2; exit 3"])
    ended = _wait_for(state / shim.EXIT_FILE)
    assert ended["exit_code"] == 3
    lines = log.read_text().splitlines()
    assert {line.split(" ", 1)[1] for line in lines} == {"stdout F out", "stderr F err"}
    started = json.loads((state / shim.SHIM_FILE).read_text())
    assert started["shim_start"] > 0 and started["shim_pid"] != launcher.proc.pid  # type: ignore[union-attr]


def test_a_running_forked_shim_is_alive_by_pid_and_start_time(tmp_path: Path, launcher: shimserver.Launcher) -> None:
    state = tmp_path / "c2"
    launcher.launch(str(state), str(tmp_path / "0.log"), ["sleep", "30"])
    started = _wait_for(state / shim.SHIM_FILE)
    try:
        assert shim_alive(started, str(state))
        assert not shim_alive(dict(started, shim_start=started["shim_start"] + 1), str(state))  # a reused pid
        assert not shim_alive(dict(started, shim_pid=os.getpid()), str(state))  # not a shim at all
    finally:
        os.kill(started["shim_pid"], signal.SIGTERM)  # the shim forwards it to the runtime
    assert _wait_for(state / shim.EXIT_FILE)["exit_code"] == 128 + signal.SIGTERM
    deadline = time.monotonic() + 5
    while shim_alive(started, str(state)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not shim_alive(started, str(state))


def test_a_dead_server_is_started_again(tmp_path: Path, launcher: shimserver.Launcher) -> None:
    launcher.launch(str(tmp_path / "a"), str(tmp_path / "a.log"), ["true"])
    first = launcher.proc
    assert first is not None
    first.kill()
    first.wait()
    launcher.launch(str(tmp_path / "b"), str(tmp_path / "b.log"), ["true"])
    assert launcher.proc is not None and launcher.proc.pid != first.pid
    assert _wait_for(tmp_path / "b" / shim.EXIT_FILE)["exit_code"] == 0


def test_a_bad_request_is_an_error_not_a_shim(tmp_path: Path, launcher: shimserver.Launcher) -> None:
    with pytest.raises(OSError, match="no command"):
        launcher.launch(str(tmp_path / "c"), str(tmp_path / "c.log"), [])
    launcher.launch(str(tmp_path / "d"), str(tmp_path / "d.log"), ["true"])  # the server goes on
    assert _wait_for(tmp_path / "d" / shim.EXIT_FILE)["exit_code"] == 0


def test_without_a_server_the_shim_starts_as_its_own_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    la = shimserver.Launcher(str(ROOT))
    monkeypatch.setattr(la, "_start", lambda: (_ for _ in ()).throw(OSError("no python here")))
    la.launch(str(tmp_path / "e"), str(tmp_path / "e.log"), ["sh", "-c", "echo own"])
    assert _wait_for(tmp_path / "e" / shim.EXIT_FILE)["exit_code"] == 0
    assert "stdout F own" in (tmp_path / "e.log").read_text()
