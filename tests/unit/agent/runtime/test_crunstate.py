"""crun's container state read from its state directory (kubeform.agent.runtime.crunstate)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import crunstate, procstat

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "crunstate" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["status_of"], ids=lambda c: c["name"])
def test_status_of(case: dict[str, Any]) -> None:
    proc = case["proc"]
    got = crunstate.status_of(case["status"], (proc["state"], proc["starttime"]) if proc else None, case["fifo"])
    assert got == case["want"]


def _container(root: Path, cid: str, pid: int, start: int | None, fifo: bool = False) -> None:
    d = root / cid
    d.mkdir(parents=True)
    doc: dict[str, Any] = {"pid": pid, "cgroup-path": "", "rootfs": "rootfs", "bundle": f"/b/{cid}", "created": "x"}
    if start is not None:
        doc["process-start-time"] = start
    (d / "status").write_text(json.dumps(doc, indent=1))
    if fifo:
        os.mkfifo(d / "exec.fifo")


def _starttime(pid: int) -> int:
    return procstat.started_ticks(pid)


def test_a_state_root_read_as_crun_would(tmp_path: Path) -> None:
    """A live process, a gone one, a reused pid, a created one and crun's own dot-files."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        start = _starttime(proc.pid)
        _container(tmp_path, "live", proc.pid, start)
        _container(tmp_path, "created", proc.pid, start, fifo=True)
        _container(tmp_path, "reused", proc.pid, start + 1)
        _container(tmp_path, "gone", 2**22 + 7, 5)
        (tmp_path / ".empty-directory").mkdir()
        (tmp_path / "half-made").mkdir()  # no status yet: crun lists it not either
        got = crunstate.list_all(str(tmp_path))
        assert got is not None
        assert {k: v["status"] for k, v in got.items()} == {
            "live": "running", "created": "created", "reused": "stopped", "gone": "stopped"}
        assert got["live"] == {"id": "live", "pid": proc.pid, "status": "running", "bundle": "/b/live"}
        assert got["gone"]["pid"] == 2**22 + 7  # as crun reports a stopped one: the pid it had
        assert crunstate.read("nothing-here", str(tmp_path)) is None
    finally:
        proc.kill()
        proc.wait()


def test_an_unreadable_status_defers_to_crun(tmp_path: Path) -> None:
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "status").write_text('{"pid": "not a number"}')
    assert crunstate.read("odd", str(tmp_path)) is None
    assert crunstate.list_all(str(tmp_path)) is None
    assert crunstate.list_all(str(tmp_path / "absent")) == {}


def test_the_state_root_follows_xdg_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert crunstate.state_root() == "/run/crun"
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert crunstate.state_root() == "/run/user/1000/crun"
