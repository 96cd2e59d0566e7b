"""plan_dependencies: which tasks check mode reports as depending on an earlier one."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubeform.engine.plan_dependencies import PlanDependencies, depends_message, task_reads
from kubeform.engine.playbook import Task, load_playbook
from tests.unit.engine.fakes import resolver


def _tasks(tmp_path: Path, tasks: list[dict[str, object]]) -> list[Task]:
    pb = tmp_path / "pb.yml"
    pb.write_text(yaml.safe_dump([{"hosts": "all", "tasks": tasks}]))
    return list(load_playbook(pb, resolver()).plays[0].all_tasks())


def test_a_task_reading_an_unknown_registered_value_depends_on_its_task(tmp_path: Path) -> None:
    reader, other = _tasks(tmp_path, [
        {"name": "use", "debug": {"msg": "{{ out.stdout }}"}},
        {"name": "free", "debug": {"msg": "x"}, "when": "flag | default(true)"},
    ])  # fmt: skip
    deps = PlanDependencies()
    assert deps.blocker_of(reader) is None
    deps.planned("make", "out", "changed", would_run=True)
    assert deps.blocker_of(reader) == ("make", True)
    assert deps.blocker_of(other) is None
    assert deps.would_change == ["make"]


def test_a_registered_value_known_in_check_mode_blocks_nothing(tmp_path: Path) -> None:
    (reader,) = _tasks(tmp_path, [{"name": "use", "debug": {"msg": "{{ out }}"}}])
    deps = PlanDependencies()
    deps.planned("probe", "out", "ok", would_run=False)  # no steps: the result is real
    assert deps.blocker_of(reader) is None
    assert deps.would_change == []


def test_dependence_is_transitive_and_failures_after_a_change_wait(tmp_path: Path) -> None:
    (second,) = _tasks(tmp_path, [{"name": "b", "debug": {"msg": "{{ a }}"}, "register": "b"}])
    deps = PlanDependencies()
    assert deps.failure_blocker() is None
    deps.planned("A", "a", "ok", would_run=True)
    blocker = deps.blocker_of(second)
    assert blocker == ("A", False)
    deps.mark_unknown(second.register, blocker)
    assert deps.pending["b"] == ("A", False)
    deps.planned("C", None, "changed", would_run=True)
    assert deps.failure_blocker() == ("C", True)


def test_messages_and_reads(tmp_path: Path) -> None:
    assert depends_message(("A", True)) == "depends on A (would change)"
    assert depends_message(("A", False)) == "depends on A (not run in plan)"
    (t,) = _tasks(tmp_path, [{"name": "{{ n }}", "debug": {"msg": "{{ m }}"}, "when": "w"}])
    assert {"m", "w"} <= task_reads(t)


def test_a_set_fact_not_planned_makes_its_names_unknown(tmp_path: Path) -> None:
    extract, use = _tasks(tmp_path, [
        {"name": "extract", "set_fact": {"version": "{{ out.stdout }}"}},
        {"name": "use", "debug": {"msg": "{{ version }}"}},
    ])  # fmt: skip
    deps = PlanDependencies()
    deps.planned("run --version", "out", "changed", would_run=True)
    blocker = deps.blocker_of(extract)
    assert blocker == ("run --version", True)
    deps.mark_task_unknown(extract, blocker)
    assert deps.blocker_of(use) == ("run --version", True)


def test_a_template_file_reading_an_unknown_name_depends(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "my.cnf.j2").write_text("version={{ cli_version }}\n")
    (task,) = _tasks(tmp_path, [{"name": "cnf", "template": {"src": "my.cnf.j2", "dest": "/etc/my.cnf"}}])
    deps = PlanDependencies()
    deps.planned("install", "cli_version", "changed", would_run=True)
    assert deps.blocker_of(task) is None  # without the playbook's directory the file is not read
    assert deps.blocker_of(task, str(tmp_path)) == ("install", True)
