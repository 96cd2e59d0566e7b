"""The per-pod JSON tables (kubeform/agent/runtime/podtables.py): read back by a restarted
agent, a damaged file read as empty, forget keeps the file, drop removes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubeform.agent.runtime.podtables import PodTables


def _parse(loaded: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _tables(tmp_path: Path) -> PodTables[dict[str, int]]:
    return PodTables(str(tmp_path), "counts.json", _parse, "counts")


def test_written_through_and_read_back_by_a_new_agent(tmp_path: Path) -> None:
    first = _tables(tmp_path)
    assert first.table("u1") == {}
    first.write("u1", {"a": 1}, durable=True)
    assert Path(first.path("u1")).is_file()
    assert _tables(tmp_path).table("u1") == {"a": 1}


def test_a_damaged_file_reads_as_empty(tmp_path: Path) -> None:
    tables = _tables(tmp_path)
    tables.write("u1", {"a": 1})
    Path(tables.path("u1")).write_text("{not json")
    assert _tables(tmp_path).table("u1") == {}


def test_forget_keeps_the_file_drop_removes_it(tmp_path: Path) -> None:
    tables = _tables(tmp_path)
    tables.write("u1", {"a": 1})
    Path(tables.path("u1")).write_text('{"a": 2}')
    tables.forget("u1")
    assert tables.table("u1") == {"a": 2}  # read again from disk
    tables.drop("u1")
    assert not Path(tables.path("u1")).exists() and tables.table("u1") == {}
