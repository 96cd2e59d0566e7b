"""The host end of `kubeform logs` (kubeform.agent.runtime.podcli) on real files in tmp_path:
--tail, --previous, and -f following new lines, a rotation and the next attempt's file."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from kubeform.agent.runtime import podcli
from kubeform.agent.runtime.crilog import format_line

TS = "2026-12-01T01:00:00.000000000Z"


def _write(path: Path, *texts: str, stream: str = "stdout", mode: str = "a") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode) as f:
        for t in texts:
            f.write(format_line(TS, stream, t))


def _dir(tmp_path: Path) -> Path:
    return tmp_path / "ns_web_u1" / "app"


def _logs(tmp_path: Path, **kw: object) -> str:
    out = io.BytesIO()
    args = dict(previous=False, tail_n=None, follow=False)
    args.update(kw)
    podcli.logs(str(tmp_path), "ns", "web", "u1", "app", out=out, **args)  # type: ignore[arg-type]
    return out.getvalue().decode()


def test_logs_prints_the_newest_attempt_text_only(tmp_path: Path) -> None:
    _write(_dir(tmp_path) / "0.log", "first run")
    _write(_dir(tmp_path) / "1.log", "second", "run")
    _write(_dir(tmp_path) / "1.log", "err line", stream="stderr")
    assert _logs(tmp_path) == "second\nrun\nerr line\n"
    assert _logs(tmp_path, tail_n=1) == "err line\n"
    assert _logs(tmp_path, previous=True) == "first run\n"


def test_logs_errors_are_kubectls(tmp_path: Path) -> None:
    with pytest.raises(podcli.PodCliError, match="has no logs"):
        _logs(tmp_path)
    _write(_dir(tmp_path) / "0.log", "only")
    with pytest.raises(podcli.PodCliError, match='previous terminated container "app" in pod "web" not found'):
        _logs(tmp_path, previous=True)


def test_follow_reads_new_lines_then_a_rotation_then_the_next_attempt(tmp_path: Path) -> None:
    d = _dir(tmp_path)
    _write(d / "0.log", "before")
    out: list[str] = []
    f = podcli.Follower(str(d), 0, out.append)
    f.open_at(os.path.getsize(d / "0.log"))
    _write(d / "0.log", "new one")
    with open(d / "0.log", "a") as fh:  # a line still being written is not printed yet
        fh.write(TS + " stdout F half")
    f.step()
    assert out == ["new one\n"]
    with open(d / "0.log", "a") as fh:
        fh.write("\n")
    _write(d / "0.log", "last before rotation")
    os.rename(d / "0.log", d / "0.log.20261201-010000")
    _write(d / "0.log", "after rotation")
    f.step()  # drains the rotated file, then reopens 0.log from its start
    f.step()
    assert out[1:] == ["half\n", "last before rotation\n", "after rotation\n"]
    _write(d / "0.log", "end of attempt 0")
    _write(d / "1.log", "attempt 1 starts")
    f.step()
    f.step()
    assert out[4:] == ["end of attempt 0\n", "attempt 1 starts\n"]
    assert f.attempt == 1


def test_follow_joins_partial_records(tmp_path: Path) -> None:
    d = _dir(tmp_path)
    _write(d / "0.log")
    out: list[str] = []
    f = podcli.Follower(str(d), 0, out.append)
    f.open_at(0)
    with open(d / "0.log", "a") as fh:
        fh.write(format_line(TS, "stdout", "a long ", partial=True))
    f.step()
    assert out == []
    with open(d / "0.log", "a") as fh:
        fh.write(format_line(TS, "stdout", "line"))
    f.step()
    assert out == ["a long line\n"]


def test_reader_gone_on_a_closed_pipe() -> None:
    r, w = os.pipe()
    try:
        assert not podcli.reader_gone(w)
        os.close(r)
        assert podcli.reader_gone(w)
    finally:
        os.close(w)


class _Drv:
    def __init__(self, containers: list[object]) -> None:
        self.containers = containers

    def list_containers(self) -> list[object]:
        return self.containers

    def exec_argv(self, cid: str, argv: list[str], tty: bool, stdin: bool) -> list[str]:
        return ["rt", "exec", *(["-t"] if tty else []), *(["-i"] if stdin else []), cid, *argv]


def test_exec_enters_the_newest_running_attempt() -> None:
    from kubeform.agent.runtime.driver import ContainerInfo

    def c(attempt: int, state: str, name: str = "app", uid: str = "u1") -> ContainerInfo:
        return ContainerInfo(uid, name, attempt, f"{name}-{attempt}", state, None, "", "", 0, "")

    drv = _Drv([c(0, "exited"), c(1, "running"), c(2, "running", uid="u2"), c(3, "running", name="side")])
    assert podcli.exec_command(drv, "u1", "app", ["ls"], True, True) == ["rt", "exec", "-t", "-i", "app-1", "ls"]
    with pytest.raises(podcli.PodCliError, match='container "gone" is not running'):
        podcli.exec_command(drv, "u1", "gone", ["ls"], False, False)
