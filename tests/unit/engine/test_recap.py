"""Recap counts (Ansible's meaning: ok includes changed) and their plain and JSON forms."""

from __future__ import annotations

import json

from rich.console import Console

from kubeform.engine.recap import print_recap
from kubeform.engine.render import plain, recap_lines
from kubeform.engine.results import ChangeView, DiffView, RunResult, TaskResult, recap


def _r(host: str, status: str, **kw: object) -> TaskResult:
    return TaskResult(host=host, play="p", task=f"t-{status}", status=status, **kw)  # type: ignore[arg-type]


RESULTS = [
    _r("h1", "ok"),
    _r("h1", "changed"),
    _r("h1", "skipped"),
    _r("h1", "failed", ignored=True),
    _r("h1", "failed", rescued=True),
    _r("h2", "unreachable"),
]


def test_counts() -> None:
    counts = recap(RESULTS, ["h1", "h2", "h3"])
    assert counts["h1"] == {"ok": 2, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 1, "rescued": 1, "ignored": 1}
    assert counts["h2"]["unreachable"] == 1
    assert counts["h3"] == dict.fromkeys(counts["h3"], 0)


def test_plain_recap_text() -> None:
    text = plain(recap_lines(recap(RESULTS[:2], ["h1"])))
    assert text == "PLAY RECAP\nh1 : ok=2  changed=1  unreachable=0  failed=0  skipped=0  rescued=0  ignored=0"


def test_rich_table_renders_every_host() -> None:
    console = Console(record=True, width=120)
    print_recap(recap(RESULTS, ["h1", "h2"]), console, rich_output=True)
    out = console.export_text()
    assert "h1" in out and "h2" in out and "unreachable" in out


def test_json_shape() -> None:
    change = ChangeView("change", "set x", ("sysctl -w x=1",), DiffView("x", "0", "1"))
    run = RunResult(results=[_r("h1", "changed", changes=(change,), msg="set x")], hosts=["h1"], check=False)
    data = json.loads(json.dumps(run.as_dict()))
    task = data["hosts"]["h1"]["tasks"][0]
    assert task["status"] == "changed" and task["changed"] is True and task["msg"] == "set x"
    assert task["diff"] == [{"label": "x", "before": "0", "after": "1", "secret": False}]
    assert data["hosts"]["h1"]["recap"]["changed"] == 1 and data["ok"] is True
