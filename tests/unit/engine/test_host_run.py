"""host_run: one host's run of one play, driven directly (the runner's tests drive it through run_playbook)."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubeform.engine.host_run import HostRun
from kubeform.engine.playbook import load_playbook
from kubeform.engine.run_context import NullReporter, Options, PlayShared
from tests.unit.engine.fakes import FakePool, inventory, resolver


def shared(tmp_path: Path, tasks: list[dict[str, object]], **opts: object) -> PlayShared:
    """What one play's host runs share, for a play of ``tasks`` on host h1 (test modules)."""
    pb = tmp_path / "pb.yml"
    pb.write_text(yaml.safe_dump([{"hosts": "all", "tasks": tasks}]))
    playbook = load_playbook(pb, resolver())
    return PlayShared(
        playbook=playbook, play=playbook.plays[0], options=Options(**opts), pool=FakePool(),  # type: ignore[arg-type]
        reporter=NullReporter(), resolver=resolver(), inventory=inventory("h1"), hosts=["h1"],
        hostvars={"h1": {}}, system_fact=None, needs_system_facts=False,
    )  # fmt: skip


def test_registered_values_and_set_facts_flow_between_tasks(tmp_path: Path) -> None:
    s = shared(tmp_path, [
        {"name": "a", "set_fact": {"x": 2}},
        {"name": "b", "debug": {"msg": "{{ x * 2 }}"}, "register": "out"},
        {"name": "c", "assert": {"that": ["out.msg == '4'"]}},
    ])  # fmt: skip
    run = HostRun(s, inventory("h1").hosts["h1"])
    run.run()
    assert [(r.task, r.status) for r in run.results] == [("a", "ok"), ("b", "ok"), ("c", "ok")]
    assert run.registered["x"] == 2 and not run.failed


def test_check_mode_reader_of_a_would_change_task_depends_on_it(tmp_path: Path) -> None:
    target = tmp_path / "f"
    s = shared(tmp_path, [
        {"name": "write", "tfile": {"path": str(target), "content": "x"}, "register": "w"},
        {"name": "show", "debug": {"msg": "{{ w.changed }}"}},
    ], check=True)  # fmt: skip
    run = HostRun(s, inventory("h1").hosts["h1"])
    run.run()
    assert [(r.task, r.status, r.depends_on) for r in run.results] == [
        ("write", "changed", None), ("show", "depends", "write"),
    ]
    assert not target.exists()


def test_unreachable_host_is_recorded_as_such(tmp_path: Path) -> None:
    s = shared(tmp_path, [{"name": "a", "debug": {"msg": "x"}}])
    s.pool = FakePool(unreachable={"h1"})
    run = HostRun(s, inventory("h1").hosts["h1"])
    run.run()
    assert run.unreachable and run.results[0].status == "unreachable"


def test_check_mode_a_failed_assert_after_a_change_is_a_failure(tmp_path: Path) -> None:
    """kubespray's 'Stop if non systemd OS type': an assert on facts fails in a plan too."""
    s = shared(tmp_path, [
        {"name": "write", "tfile": {"path": str(tmp_path / "f"), "content": "x"}},
        {"name": "stop if not systemd", "assert": {"that": ["mgr == 'systemd'"]}, "vars": {"mgr": "sysvinit"}},
    ], check=True)  # fmt: skip
    run = HostRun(s, inventory("h1").hosts["h1"])
    run.run()
    assert [(r.task, r.status) for r in run.results] == [("write", "changed"), ("stop if not systemd", "failed")]


def test_check_mode_a_failed_assert_on_a_registered_result_after_a_change_depends(tmp_path: Path) -> None:
    s = shared(tmp_path, [
        {"name": "write", "tfile": {"path": str(tmp_path / "f"), "content": "x"}},
        {"name": "look", "debug": {"msg": "{{ 1 }}"}, "register": "seen"},
        {"name": "check it", "assert": {"that": ["seen.msg == 'the file'"]}},
    ], check=True)  # fmt: skip
    run = HostRun(s, inventory("h1").hosts["h1"])
    run.run()
    assert [(r.task, r.status) for r in run.results] == [("write", "changed"), ("look", "ok"), ("check it", "depends")]
