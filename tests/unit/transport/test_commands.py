"""Command wrapping and the sudo install script (kubeform.transport.commands)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.transport.commands import install_script, stderr_mentions, wrap_command

DATA = Path(__file__).parent.parent.parent / "data" / "transport"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "commands.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_wrap_command(case: dict[str, Any]) -> None:
    got = wrap_command(
        case["command"],
        login_user=case["login_user"],
        become=case.get("become", False),
        become_user=case.get("become_user", "root"),
        sudo_password=case.get("sudo_password", False),
        kill_after=case.get("kill_after"),
    )
    assert got == case["expected"]


def test_wrapped_command_runs_unchanged() -> None:
    tricky = "printf '%s|' \"$0\" 'a b' \"it's\"; echo"
    line = wrap_command(tricky, login_user="x")
    out = subprocess.run(["/bin/sh", "-c", line], capture_output=True, text=True, check=True)
    assert out.stdout == "/bin/sh|a b|it's|\n"


def _install(path: Path, content: bytes, mode: int | None) -> int:
    script = install_script(str(path), mode)
    return subprocess.run(["/bin/sh", "-c", script], input=content, check=False).returncode


def test_install_script_writes_with_mode(tmp_path: Path) -> None:
    target = tmp_path / "dir with space" / "f.conf"
    target.parent.mkdir()
    assert _install(target, b"one", 0o600) == 0
    assert target.read_bytes() == b"one"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["f.conf"]


def test_install_script_keeps_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("old")
    target.chmod(0o640)
    assert _install(target, b"new", None) == 0
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_install_script_new_file_default_mode(tmp_path: Path) -> None:
    target = tmp_path / "f"
    assert _install(target, b"x", None) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_install_script_fails_cleanly(tmp_path: Path) -> None:
    assert _install(tmp_path / "missing" / "f", b"x", 0o644) != 0
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        ("sudo: a password is required\n", True),
        ("sudo: A terminal is required to read the password", True),
        ("permission denied", False),
    ],
)
def test_stderr_mentions(stderr: str, expected: bool) -> None:
    from kubeform.transport.commands import PASSWORD_REQUIRED_MARKERS

    assert stderr_mentions(stderr, PASSWORD_REQUIRED_MARKERS) is expected
