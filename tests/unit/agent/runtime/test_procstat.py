"""A process's state and start time from /proc/PID/stat (kubeform.agent.runtime.procstat),
tests/data/agent_runtime/procstat/cases.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import procstat

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "procstat" / "cases.yaml").read_text()
)["proc_stat"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_parse(case: dict[str, Any]) -> None:
    want = case["want"]
    assert procstat.parse(case["text"]) == ((want["state"], want["starttime"]) if want else None)


def test_a_live_process_and_a_gone_one() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        got = procstat.read(proc.pid)  # R, S or D (loading on a busy disk): alive
        assert got is not None and got[0] not in "ZXx" and got[1] > 0
        assert procstat.started_ticks(proc.pid) == got[1]
        assert procstat.started_ticks(os.getpid()) <= got[1]
    finally:
        proc.kill()
        proc.wait()
    assert procstat.read(proc.pid) is None and procstat.started_ticks(proc.pid) == 0
