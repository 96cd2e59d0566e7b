"""The shim's own pieces: its hand-written JSON, the runtime started without subprocess,
and what it imports (each import is CPU at every container start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeform.agent.runtime import shim

ROOT = Path(__file__).parents[4]


@pytest.mark.parametrize("value", [
    {},
    {"exit_code": 137, "started_at": "2026-01-01T00:00:00.000000000Z", "finished_at": ""},
    {"exit_code": 127, "error": 'no "crun" here\\ \n\t\x01 é ✓', "lost": True, "none": None, "no": False},
])  # fmt: skip
def test_json_text_is_what_json_reads(value: dict[str, object]) -> None:
    assert json.loads(shim.json_text(value)) == value
    if all(isinstance(v, int) or str(v).isprintable() for v in value.values()):
        assert shim.json_text(value) == json.dumps(value, sort_keys=True, ensure_ascii=False)


def test_a_runtime_that_cannot_be_executed_ends_127_with_the_reason(tmp_path: Path) -> None:
    log, state = tmp_path / "0.log", tmp_path / "state"
    code = shim.main(["--state-dir", str(state), "--log", str(log), "--foreground", "--", str(tmp_path / "nope")])
    assert code == 127
    ended = json.loads((state / shim.EXIT_FILE).read_text())
    assert ended["exit_code"] == 127 and "No such file" in ended["error"]
    assert "No such file" in log.read_text()
    assert not (state / shim.SHIM_FILE).exists()


def test_the_runtime_gets_only_stdio_and_default_sigpipe(tmp_path: Path) -> None:
    """No descriptor of the shim leaks into the runtime; SIGPIPE is back to its default."""
    log, state = tmp_path / "0.log", tmp_path / "state"
    script = "ls /proc/self/fd; grep SigIgn /proc/self/status"
    assert shim.main(["--state-dir", str(state), "--log", str(log), "--foreground", "--", "sh", "-c", script]) == 0
    out = [line.split(" F ", 1)[1] for line in log.read_text().splitlines()]
    assert sorted(int(x) for x in out[:-1]) == [0, 1, 2, 3]  # 3: the directory ls reads
    assert not int(out[-1].split()[1], 16) & (1 << 12)  # SIGPIPE (13) not ignored


def test_the_shim_imports_no_heavy_module() -> None:
    code = "import sys, kubeform.agent.runtime.shim; print(' '.join(sorted(sys.modules)))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-S", "-c", code], env=env, check=True, capture_output=True, text=True)
    loaded = set(out.stdout.split())
    assert not loaded & {"json", "subprocess", "signal", "typing", "enum", "re", "threading"}
