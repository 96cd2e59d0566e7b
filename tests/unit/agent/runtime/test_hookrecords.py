"""hookrecords: hook states per container, on disk (a restarted agent reads them back)."""

from __future__ import annotations

from pathlib import Path

from kubeform.agent.runtime.hookrecords import HookRecords


def test_marks_survive_a_restart_and_gone_containers_are_dropped(tmp_path: Path) -> None:
    records = HookRecords(str(tmp_path))
    records.mark("u1", "c1", "postStart", "pending")
    records.mark("u1", "c1", "postStart", "begun", ["c1"])
    records.mark("u1", "c2", "preStop", "begun", ["c1"])
    again = HookRecords(str(tmp_path))
    assert again.of("u1") == {"c1": {"postStart": "begun"}, "c2": {"preStop": "begun"}}
    assert again.state("u1", "c1", "postStart") == "begun" and again.state("u1", "c9", "postStart") == ""
    again.mark("u1", "c3", "postStart", "pending", ["c2"])  # c1 is no longer on the host
    assert set(HookRecords(str(tmp_path)).of("u1")) == {"c2", "c3"}
    again.drop("u1")
    assert HookRecords(str(tmp_path)).of("u1") == {}


def test_unreadable_file_is_an_empty_table(tmp_path: Path) -> None:
    records = HookRecords(str(tmp_path))
    records.mark("u1", "c1", "postStart", "done")
    Path(records.path("u1")).write_text("{not json")
    assert HookRecords(str(tmp_path)).of("u1") == {}
