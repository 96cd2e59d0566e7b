"""task_inputs: a task's name, become, loop items, rendered arguments and prepared module call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine import task_inputs as inputs
from kubeform.engine import templating
from kubeform.engine.playbook import Play, Task, load_playbook
from kubeform.engine.variables import Vars
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from tests.unit.engine.fakes import resolver


def _play(tmp_path: Path, tasks: list[dict[str, Any]], **play: Any) -> tuple[Play, list[Task]]:
    pb = tmp_path / "pb.yml"
    pb.write_text(yaml.safe_dump([{"hosts": "all", **play, "tasks": tasks}]))
    p = load_playbook(pb, resolver()).plays[0]
    return p, list(p.all_tasks())


def test_name_renders_or_stays_as_written(tmp_path: Path) -> None:
    _, (a, b) = _play(tmp_path, [{"name": "hi {{ who }}", "debug": {}}, {"name": "x {{ nope.y }}", "debug": {}}])
    assert inputs.task_name(a, Vars({"who": "h1"})) == "hi h1"
    assert inputs.task_name(b, Vars({})) == "x {{ nope.y }}"


@pytest.mark.parametrize(
    ("task", "play", "host", "expect"),
    [
        ({}, {}, {}, (False, "root")),
        ({}, {}, {"ansible_become": True}, (True, "root")),
        ({}, {"become": True, "become_user": "app"}, {}, (True, "app")),
        ({"become": "{{ b }}", "become_user": "{{ u }}"}, {"become": True}, {}, (False, "svc")),
    ],
)
def test_become_task_then_play_then_host(
    tmp_path: Path, task: dict[str, Any], play: dict[str, Any], host: dict[str, Any], expect: tuple[bool, str]
) -> None:
    p, (t,) = _play(tmp_path, [{"name": "t", "debug": {}, **task}], **play)
    assert inputs.become_of(t, p, Host("h1", vars=host), Vars({"b": "no", "u": "svc"})) == expect


def test_loop_vars_and_labels(tmp_path: Path) -> None:
    _, (t, bad, none) = _play(tmp_path, [
        {"name": "l", "debug": {}, "loop": "{{ xs }}", "loop_control": {"loop_var": "x", "index_var": "i"}},
        {"name": "m", "debug": {}, "loop": "{{ m }}"},
        {"name": "n", "debug": {}},
    ])  # fmt: skip
    v = Vars({"xs": ["a", "b" * 100], "m": {"k": 1}})
    lvs = inputs.loop_vars(t, v)
    assert lvs == [{"x": "a", "i": 0}, {"x": "b" * 100, "i": 1}]
    assert len(inputs.item_label(t, v.child(lvs[1]))) == 60
    with pytest.raises(UserError, match="dict2items"):
        inputs.loop_vars(bad, v)
    assert inputs.loop_vars(none, v) == [{}]


def test_render_args_drops_omit_and_names_the_argument_line(tmp_path: Path) -> None:
    _, (t,) = _play(tmp_path, [{"name": "f", "tfile": {"path": "/x", "content": "{{ c }}", "mode": "{{ omit }}"}}])
    assert inputs.render_args(t, Vars({"c": "hi", "omit": templating.OMIT})) == {"path": "/x", "content": "hi"}
    with pytest.raises(UserError) as err:
        inputs.render_args(t, Vars({}))
    assert "tfile.content" in str(err.value)


def test_number_renders_or_names_its_keyword(tmp_path: Path) -> None:
    _, (t,) = _play(tmp_path, [{"name": "r", "debug": {}, "until": "true", "retries": "{{ n }}"}])
    assert inputs.number(t, "retries", Vars({"n": "4"}), int) == 4
    with pytest.raises(UserError, match="must be an integer"):
        inputs.number(t, "retries", Vars({"n": "four"}), int)


def test_prepare_resolves_checks_and_lists_facts(tmp_path: Path) -> None:
    _, (ok, wrong_type) = _play(tmp_path, [
        {"name": "f", "tfile": {"path": "/x", "content": "y"}},
        {"name": "g", "tfile": {"path": "/x", "content": "{{ n }}"}},
    ])  # fmt: skip
    prepared = inputs.prepare(ok, Vars({}), resolver(), str(tmp_path))
    assert [f.key for f in prepared.facts] == ["tfile:/x"]
    with pytest.raises(UserError, match=r"tfile\.content"):
        inputs.prepare(wrong_type, Vars({"n": [5]}), resolver(), str(tmp_path))
    # a number where a string is wanted becomes its text, as Ansible converts it
    assert inputs.prepare(wrong_type, Vars({"n": 5}), resolver(), str(tmp_path)).args["content"] == "5"


def test_local_files_beside_the_playbook(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.conf").write_text("a")
    ctx = inputs.LocalPrepareContext(str(tmp_path), Vars({"x": 1}))
    assert ctx.read_local("a.conf") == b"a"
    assert ctx.render("{{ x }}") == "1"
    with pytest.raises(Exception, match="no such local file"):
        ctx.read_local("b.conf")


def test_expand_home_in_host_paths() -> None:
    homes = {"": "/home/op", "root": "/root"}
    args = {"path": "~root/.bashrc", "dest": "~/.kube/config", "creates": "~", "src": "~/local", "removes": "~no such/x"}
    assert inputs.expand_home(args, homes.get) == {
        "path": "/root/.bashrc", "dest": "/home/op/.kube/config", "creates": "/home/op", "src": "~/local", "removes": "~no such/x",
    }
    assert inputs.expand_home(args, None) == args
