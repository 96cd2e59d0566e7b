"""CRI log format (kubeform.agent.runtime.crilog) and the shim's log keeping."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import crilog, shim

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "crilog" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["timestamp"], ids=lambda c: c["want"])
def test_timestamp(case: dict[str, Any]) -> None:
    assert crilog.timestamp(case["now"]) == case["want"]


@pytest.mark.parametrize("case", CASES["split"], ids=lambda c: c["name"])
def test_split(case: dict[str, Any]) -> None:
    records, rest = crilog.split(case["buffer"].encode(), case["data"].encode(), case["max_line"])
    assert [[r.tag, r.content.decode()] for r in records] == case["records"]
    assert rest.decode() == case["rest"]


@pytest.mark.parametrize("case", CASES["rotate"])
def test_should_rotate(case: dict[str, Any]) -> None:
    assert crilog.should_rotate(case["size"], case["incoming"], case["max"]) is case["want"]


def test_format_and_parse() -> None:
    line = crilog.format_record("2016-10-06T00:17:09.669794202Z", "stdout", crilog.Record("F", b"a b c"))
    assert line == b"2016-10-06T00:17:09.669794202Z stdout F a b c\n"
    assert crilog.parse_line(line.decode()) == ("2016-10-06T00:17:09.669794202Z", "stdout", "F", "a b c")
    assert crilog.format_line("T", "stderr", "x", partial=True) == "T stderr P x\n"
    assert crilog.flush(b"") == []


def test_rotating_log(tmp_path: Path) -> None:
    path = tmp_path / "0.log"
    log = shim.RotatingLog(str(path), max_size=30, keep=1)
    for i in range(5):
        log.write(b"line %d 0123456789\n" % i)  # 18 bytes: one per file
        time.sleep(1.05 if i in (1, 3) else 0)  # distinct stamps for the rotated names
    log.close()
    rotated = sorted(p.name for p in tmp_path.iterdir() if p.name != "0.log")
    assert len(rotated) == 1 and rotated[0].startswith("0.log.")
    assert path.read_bytes() == b"line 4 0123456789\n"


def test_shim_foreground(tmp_path: Path) -> None:
    """The shim copies both streams into the CRI log and records the exit code."""
    log = tmp_path / "c" / "0.log"
    state = tmp_path / "state"
    code = shim.main(
        ["--state-dir", str(state), "--log", str(log), "--foreground", "--",
         "sh", "-c", "echo out; echo err >&2; printf tail; exit 3"]
    )
    assert code == 3
    lines = [crilog.parse_line(x) for x in log.read_text().splitlines()]
    assert sorted((s, t, c) for _, s, t, c in lines) == [
        ("stderr", "F", "err"), ("stdout", "F", "out"), ("stdout", "F", "tail")
    ]
    ended = json.loads((state / shim.EXIT_FILE).read_text())
    assert ended["exit_code"] == 3 and ended["finished_at"] >= ended["started_at"]
    assert json.loads((state / shim.SHIM_FILE).read_text())["shim_pid"] == os.getpid()


def test_shim_detached_signal_exit(tmp_path: Path) -> None:
    """Detached: the launcher returns at once; a container killed by a signal ends 128+N."""
    state = tmp_path / "state"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[4]))
    t = time.time()
    subprocess.run(
        [sys.executable, "-m", "kubeform.agent.runtime.shim", "--state-dir", str(state), "--log",
         str(tmp_path / "0.log"), "--", "sh", "-c", "sleep 0.2; kill -9 $$"],
        check=True, env=env,
    )
    assert time.time() - t < 2
    deadline = time.time() + 10
    while not (state / shim.EXIT_FILE).exists() and time.time() < deadline:
        time.sleep(0.05)
    assert json.loads((state / shim.EXIT_FILE).read_text())["exit_code"] == 137
