"""Plan rendering: results -> the exact text ``kubeform plan`` prints (data-driven).

Cases in tests/data/engine/render/*.yml hold the results of a plan and the expected
plain output: unified diffs for files, ``before -> after`` for one-line values, secrets
as hash and length, dependency lines, and the Terraform-style summary line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine.render import diff_lines, plain, plan_lines, status_line
from kubeform.engine.results import ChangeView, DiffView, RunResult, TaskResult

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "engine" / "render"
CASES = sorted(DATA.glob("*.yml"))


def _result(raw: dict[str, Any]) -> TaskResult:
    changes = tuple(
        ChangeView(
            action=c["action"], summary=c["summary"],
            diff=DiffView(**c["diff"]) if c.get("diff") else None,
        )
        for c in raw.pop("changes", [])
    )
    return TaskResult(play="p", changes=changes, **raw)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_plan_text(case: Path) -> None:
    data = yaml.safe_load(case.read_text())
    run = RunResult(results=[_result(r) for r in data["results"]], hosts=data["hosts"], check=True)
    assert plain(plan_lines(run)) + "\n" == data["expect"]


def test_secret_diff_is_one_line_even_when_multiline() -> None:
    lines = diff_lines(DiffView("/k", "(secret sha256:aa, 2 bytes)", "(secret sha256:bb, 3 bytes)", True))
    assert plain(lines) == "/k: (secret sha256:aa, 2 bytes) -> (secret sha256:bb, 3 bytes)"


def test_status_lines() -> None:
    ok = TaskResult(host="h1", play="p", task="write", status="changed")
    bad = TaskResult(host="h2", play="p", task="write", status="failed", msg="boom", ignored=True)
    assert status_line(ok)[1] == "changed: [h1] write"
    assert status_line(bad)[1] == "failed (ignored): [h2] write: boom"


def test_module_hashed_secrets_are_kept_clear_text_is_hashed() -> None:
    from kubeform.engine.results import secret_summary
    from kubeform.modules.base import Diff

    hashed = "secret content (sha256 " + "ab" * 32 + ")\n"
    view = DiffView.of(Diff("/etc/token", hashed, "hunter2", secret=True))
    assert view.before == hashed.rstrip("\n")
    assert view.after == secret_summary("hunter2")
    # Keyed per run: stable within a run, never the guessable plain sha256 of "hunter2".
    assert view.after.startswith("(secret hmac-sha256:") and view.after.endswith(", 7 bytes)")
    assert "f52fbd32b2b3" not in view.after
    hidden = DiffView.of(Diff("/etc/x", "a", "b"), hide=True)
    assert hidden.secret and "a" != hidden.before


def test_a_long_new_file_is_summarised_unless_verbose() -> None:
    body = "".join(f"line {i}\n" for i in range(100))
    view = DiffView("/opt/app.py", None, body)
    assert plain(diff_lines(view)) == "/opt/app.py: (absent) -> new file of 100 lines (-v shows it)"
    assert "+line 99" in plain(diff_lines(view, full=True))
    short = DiffView("/etc/x.conf", None, "a\nb\n")
    assert "+a" in plain(diff_lines(short))
    changed = DiffView("/opt/app.py", body, body.replace("line 5\n", "line five\n"))
    assert "+line five" in plain(diff_lines(changed))
