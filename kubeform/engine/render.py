"""Plans and diffs as readable text: pure functions from results to styled lines.

Every output (the plan, ``run --diff``, a terminal with colour or a log file without)
goes through these functions, so what a user sees is decided in one place and tested
with data. A line is ``(style, text)``; the style is a rich style name or "" and is
dropped when the output is not a terminal. Files get a unified diff (difflib); one-line
values (sysctl, service state, package version) get ``label: before -> after``;
secrets only ever arrive here as hash and length (see results.DiffView).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from kubeform.engine.results import ChangeView, DiffView, PlanSummary, RunResult, TaskResult

Line = tuple[str, str]

SYMBOL = {"add": "+", "change": "~", "remove": "-"}
STYLE = {"add": "green", "change": "yellow", "remove": "red"}
STATUS_STYLE = {
    "ok": "green",
    "changed": "yellow",
    "failed": "bold red",
    "unreachable": "bold red",
    "skipped": "cyan",
    "depends": "magenta",
}
ABSENT = "(absent)"


def _is_multiline(text: str | None) -> bool:
    return text is not None and "\n" in text.rstrip("\n")


# A new file longer than this is summarised unless -v: a plan that creates whole
# programs (the agent's code in `kubeform up`) stays readable; changes are always shown.
NEW_FILE_LINES = 40


def diff_lines(diff: DiffView, indent: str = "", full: bool = False) -> list[Line]:
    """One diff: a unified diff for multi-line text, ``label: before -> after`` otherwise."""
    if diff.secret or not (_is_multiline(diff.before) or _is_multiline(diff.after)):
        before = ABSENT if diff.before is None else diff.before.rstrip("\n")
        after = ABSENT if diff.after is None else diff.after.rstrip("\n")
        return [("", f"{indent}{diff.label}: {before} -> {after}")]
    if not full and diff.before is None and diff.after is not None:
        count = len(diff.after.splitlines())
        if count > NEW_FILE_LINES:
            return [("green", f"{indent}{diff.label}: {ABSENT} -> new file of {count} lines (-v shows it)")]
    a = [] if diff.before is None else (diff.before).splitlines(keepends=True)
    b = [] if diff.after is None else (diff.after).splitlines(keepends=True)
    out: list[Line] = []
    for raw in difflib.unified_diff(
        a, b, fromfile=f"{diff.label} (before)" if diff.before is not None else "/dev/null",
        tofile=f"{diff.label} (after)" if diff.after is not None else "/dev/null", n=3,
    ):  # fmt: skip
        text = raw.rstrip("\n")
        if raw.startswith(("+++", "---")):
            style = "bold"
        elif raw.startswith("@@"):
            style = "cyan"
        elif raw.startswith("+"):
            style = "green"
        elif raw.startswith("-"):
            style = "red"
        else:
            style = ""
        out.append((style, f"{indent}{text}"))
        if not raw.endswith("\n"):
            out.append(("dim", f"{indent}\\ No newline at end of file"))
    return out


def change_lines(change: ChangeView, indent: str = "    ", steps: bool = False) -> list[Line]:
    """A change: its symbol and summary, optionally its steps, then its diff."""
    sym = SYMBOL.get(change.action, "~")
    out: list[Line] = [(STYLE.get(change.action, ""), f"{indent}{sym} {change.summary}")]
    if steps:
        out.extend(("dim", f"{indent}    $ {s}") for s in change.steps)
    if change.diff is not None:
        out.extend(diff_lines(change.diff, indent + "    ", full=steps))
    return out


def task_plan_lines(result: TaskResult, verbose: bool = False) -> list[Line]:
    """One task in a plan: nothing for ok/skipped, its changes, or why it could not be planned."""
    where = f"  ({result.location})" if verbose and result.location else ""
    handler = " [handler]" if result.handler else ""
    if result.status == "changed":
        actions = {c.action for c in result.changes} or {"change"}
        action = actions.pop() if len(actions) == 1 else "change"
        out: list[Line] = [(STYLE[action] + " bold", f"  {SYMBOL[action]} {result.task}{handler}{where}")]
        for c in result.changes:
            out.extend(change_lines(c, steps=verbose))
        if not result.changes:
            out.append(("yellow", f"    ~ {result.msg or 'would change'}"))
        return out
    if result.status == "depends":
        return [("magenta", f"  ? {result.task}{handler}: {result.msg}{where}")]
    if result.status in ("failed", "unreachable"):
        tag = "ignored" if result.ignored else result.status
        return [("bold red", f"  ! {result.task}{handler}: {tag}: {result.msg}{where}")]
    if verbose:
        return [("dim", f"    {result.task}: {result.status}")]
    return []


def plan_lines(run: RunResult, verbose: bool = False) -> list[Line]:
    """The whole plan: per host, per task, then the summary line."""
    by_host: dict[str, list[TaskResult]] = {h: [] for h in run.hosts}
    for r in run.results:
        by_host.setdefault(r.host, []).append(r)
    out: list[Line] = []
    for host, results in by_host.items():
        body: list[Line] = []
        for r in results:
            body.extend(task_plan_lines(r, verbose))
        if body:
            out.append(("bold", f"{host}:"))
            out.extend(body)
        else:
            out.append(("green", f"{host}: no changes"))
        out.append(("", ""))
    summary = run.plan()
    out.append(summary_line(summary, run.failed))
    return out


def summary_line(summary: PlanSummary, failed: bool = False) -> Line:
    """Terraform's closing line; "No changes" is only claimed when nothing failed either."""
    if failed:
        return ("bold red", summary.line())
    if not summary.has_changes:
        return ("bold green", summary.line() + " No changes: every host matches the playbook.")
    return ("bold", summary.line())


def status_line(result: TaskResult, verbose: bool = False) -> Line:
    """The plain progress line of a finished task (``changed: [h1] write config``)."""
    status = result.status
    word = {"skipped": "skipping", "depends": "depends"}.get(status, status)
    if status == "failed" and result.ignored:
        word = "failed (ignored)"
    elif status == "failed" and result.rescued:
        word = "failed (rescued)"
    text = f"{word}: [{result.host}] {result.task}"
    if result.handler:
        text += " (handler)"
    if status in ("failed", "unreachable", "depends") and result.msg:
        text += f": {result.msg}"
    elif (verbose or result.output) and result.msg:
        text += f" => {result.msg}"
    return (STATUS_STYLE.get(status, ""), text)


def result_lines(result: TaskResult, diff: bool, verbose: bool = False) -> list[Line]:
    """Status line, loop items with -v, and (with ``--diff``) the task's changes."""
    out = [status_line(result, verbose)]
    if verbose:
        out.extend(("dim", f"    {i}") for i in result.items)
    if diff and result.status in ("changed", "failed"):
        for c in result.changes:
            out.extend(change_lines(c, steps=verbose))
    return out


def recap_lines(counts: dict[str, dict[str, int]]) -> list[Line]:
    """Ansible's PLAY RECAP as plain lines."""
    width = max((len(h) for h in counts), default=0)
    out: list[Line] = [("bold", "PLAY RECAP")]
    for host, c in counts.items():
        bad = c.get("failed", 0) or c.get("unreachable", 0)
        style = "red" if bad else ("yellow" if c.get("changed") else "green")
        fields = "  ".join(f"{k}={v}" for k, v in c.items())
        out.append((style, f"{host.ljust(width)} : {fields}"))
    return out


def plain(lines: Iterable[Line]) -> str:
    """Lines as text without styles (logs, pipes, tests)."""
    return "\n".join(text for _, text in lines)


def join(lines: Sequence[Line]) -> str:
    return plain(lines) + ("\n" if lines else "")
