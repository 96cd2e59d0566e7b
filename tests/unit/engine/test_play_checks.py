"""play_checks: undefined names refused before connecting; system facts only when read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine.play_checks import check_names, play_needs_system_facts
from kubeform.engine.playbook import Play, load_playbook
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from tests.unit.engine.fakes import resolver


def _play(tmp_path: Path, tasks: list[dict[str, Any]], **play: Any) -> Play:
    pb = tmp_path / "pb.yml"
    pb.write_text(yaml.safe_dump([{"hosts": "all", **play, "tasks": tasks}]))
    return load_playbook(pb, resolver()).plays[0]


def test_names_known_from_every_source(tmp_path: Path) -> None:
    play = _play(tmp_path, [
        {"name": "a", "debug": {"msg": "{{ pv }} {{ hv }} {{ ev }} {{ inventory_hostname }}"}, "register": "r"},
        {"name": "b", "set_fact": {"f": 1}},
        {"name": "c", "debug": {"msg": "{{ r }} {{ f }} {{ item }} {{ tv }} {{ maybe | default(1) }}"}, "vars": {"tv": 1}, "loop": [1]},
    ], vars={"pv": 1})  # fmt: skip
    check_names(play, [Host("h1", vars={"hv": 1})], {"ev": 1})


def test_an_undefined_name_is_refused_with_its_task(tmp_path: Path) -> None:
    play = _play(tmp_path, [{"name": "typo", "debug": {"msg": "{{ pckage }}"}}])
    with pytest.raises(UserError) as err:
        check_names(play, [Host("h1")], {})
    assert "undefined variable 'pckage'" in str(err.value) and "debug.msg" in str(err.value)


def test_names_after_an_unknowable_set_fact_or_include_vars_are_left_to_run_time(tmp_path: Path) -> None:
    play = _play(tmp_path, [
        {"name": "os vars", "include_vars": "{{ item }}", "with_first_found": ["a.yml"]},
        {"name": "later", "debug": {"msg": "{{ from_the_file }}"}},
    ])  # fmt: skip
    check_names(play, [Host("h1")], {})
    play = _play(tmp_path, [
        {"name": "early", "debug": {"msg": "{{ typo_before }}"}},
        {"name": "dyn", "set_fact": {"{{ item.key }}": "{{ item.value }}"}, "loop": [{"key": "k", "value": 1}]},
    ])  # fmt: skip
    with pytest.raises(UserError, match="typo_before"):
        check_names(play, [Host("h1")], {})


def test_role_vars_are_checked_only_when_read(tmp_path: Path) -> None:
    play = _play(tmp_path, [{"name": "t", "debug": {"msg": "{{ used }}"}, "vars": {"unused": "{{ nowhere }}", "used": 1}}])
    check_names(play, [Host("h1")], {})


@pytest.mark.parametrize(
    ("tasks", "host_vars", "needs"),
    [
        ([{"name": "a", "debug": {"msg": "x"}}], {}, False),
        ([{"name": "a", "debug": {"msg": "{{ ansible_os_family }}"}}], {}, True),
        ([{"name": "a", "debug": {"msg": "{{ ansible_host }}"}}], {"ansible_host": "1.2.3.4"}, False),
        ([{"name": "a", "debug": {"msg": "{{ ansible_facts.os_family }}"}}], {}, True),
        ([{"name": "a", "debug": {"msg": "x"}, "when": "ansible_distribution == 'CentOS'"}], {}, True),
    ],
)
def test_system_facts_only_when_read(tmp_path: Path, tasks: list[dict[str, Any]], host_vars: dict[str, Any], needs: bool) -> None:
    play = _play(tmp_path, tasks)
    assert play_needs_system_facts(play, [Host("h1", vars=host_vars)], {}, str(tmp_path)) is needs


def test_a_template_file_reading_facts_counts(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "motd.j2").write_text("{{ ansible_hostname }}\n")
    play = _play(tmp_path, [{"name": "t", "template": {"src": "motd.j2", "dest": "/etc/motd"}}])
    assert play_needs_system_facts(play, [Host("h1")], {}, str(tmp_path))
