"""Progress while a run goes: a live table per host on a terminal, plain lines otherwise.

Host threads call the reporter; each reporter serialises its own output. Plain lines
(``changed: [h1] write config``) are what a log or CI wants; a terminal gets one row per
host (current task, counts) that updates in place, with failures and diffs printed above
it as they happen.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from kubeform.engine.playbook import Play
from kubeform.engine.render import Line, result_lines
from kubeform.engine.results import TaskResult


def print_lines(console: Console, lines: Sequence[Line], *, styled: bool) -> None:
    """Print styled lines (styles dropped when ``styled`` is false)."""
    for style, text in lines:
        console.print(Text(text, style=style if styled else ""), soft_wrap=True, highlight=False)


class PlainReporter:
    """One line per finished task; diffs under changed tasks with ``--diff``."""

    def __init__(self, console: Console, *, diff: bool = False, verbose: bool = False, styled: bool = False) -> None:
        self.console = console
        self.diff = diff
        self.verbose = verbose
        self.styled = styled
        self._lock = threading.Lock()

    def play_start(self, play: Play, hosts: Sequence[str]) -> None:
        with self._lock:
            names = ", ".join(hosts) if hosts else "no hosts matched"
            print_lines(self.console, [("bold", f"PLAY [{play.name}] ({names})")], styled=self.styled)

    def task_start(self, host: str, task: str) -> None:
        if self.verbose:
            with self._lock:
                print_lines(self.console, [("dim", f"start: [{host}] {task}")], styled=self.styled)

    def task_done(self, result: TaskResult) -> None:
        with self._lock:
            print_lines(self.console, result_lines(result, self.diff, self.verbose), styled=self.styled)

    def host_done(self, host: str) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class _HostRow:
    task: str = ""
    state: str = "waiting"
    counts: Counter[str] = field(default_factory=Counter)


class LiveReporter:
    """A live table, one row per host: state, current task, counts."""

    def __init__(self, console: Console, *, diff: bool = False, verbose: bool = False, check: bool = False) -> None:
        self.console = console
        self.diff = diff
        self.verbose = verbose
        self.check = check
        self._rows: dict[str, _HostRow] = {}
        self._play = ""
        self._lock = threading.Lock()
        self._live = Live(get_renderable=self._table, console=console, refresh_per_second=8, transient=False)
        self._started = False

    def _table(self) -> RenderableType:
        with self._lock:
            table = Table(title=self._play, title_justify="left", show_edge=False, pad_edge=False)
            for col in ("host", "state", "task", "ok", "changed", "failed", "skipped"):
                table.add_column(col, justify="right" if col in ("ok", "changed", "failed", "skipped") else "left")
            for host, row in self._rows.items():
                style = {"failed": "red", "unreachable": "red", "done": "green", "running": "yellow"}.get(row.state, "")
                table.add_row(
                    host, Text(row.state, style=style), Text(row.task, overflow="ellipsis", no_wrap=True),
                    str(row.counts["ok"]), str(row.counts["changed"]), str(row.counts["failed"]), str(row.counts["skipped"]),
                )  # fmt: skip
            return table

    def play_start(self, play: Play, hosts: Sequence[str]) -> None:
        with self._lock:
            self._play = f"{'Plan' if self.check else 'Play'}: {play.name}"
            for h in hosts:
                self._rows.setdefault(h, _HostRow()).state = "running"
        if not self._started:
            self._live.start()
            self._started = True

    def task_start(self, host: str, task: str) -> None:
        with self._lock:
            row = self._rows.setdefault(host, _HostRow())
            row.task = task
            row.state = "running"

    def task_done(self, result: TaskResult) -> None:
        with self._lock:
            row = self._rows.setdefault(result.host, _HostRow())
            if result.status in ("ok", "changed"):
                row.counts["ok"] += 1
            if result.status == "changed":
                row.counts["changed"] += 1
            if result.status == "skipped":
                row.counts["skipped"] += 1
            if result.status == "failed" and not result.ignored and not result.rescued:
                row.counts["failed"] += 1
                row.state = "failed"
            if result.status == "unreachable":
                row.state = "unreachable"
        show = result.status in ("failed", "unreachable") or (self.diff and result.status == "changed") or self.verbose or result.output
        if show:
            for style, text in result_lines(result, self.diff, self.verbose):
                self._live.console.print(Text(text, style=style), soft_wrap=True, highlight=False)

    def host_done(self, host: str) -> None:
        with self._lock:
            row = self._rows.setdefault(host, _HostRow())
            if row.state == "running":
                row.state = "done"
            row.task = ""

    def close(self) -> None:
        if self._started:
            self._live.refresh()
            self._live.stop()
            self._started = False
