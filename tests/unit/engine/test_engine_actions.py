"""engine_actions: debug, set_fact, fail, assert and meta, as pure functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.engine import engine_actions as ea
from kubeform.engine.playbook import ENGINE_ACTIONS
from kubeform.engine.variables import Vars
from kubeform.errors import UserError


def test_every_engine_action_has_a_function() -> None:
    assert set(ea.ACTIONS) == set(ENGINE_ACTIONS)


def test_debug_var_and_msg() -> None:
    assert ea.debug({"var": "x"}, Vars({"x": [1]})).outcome.msg == "x = [1]"
    assert ea.debug({}, Vars({})).outcome.msg == "Hello world!"


def test_set_fact_returns_the_facts_to_set() -> None:
    done = ea.set_fact({"a": 1, "cacheable": True}, Vars({}))
    assert done.set_facts == {"a": 1}
    assert done.outcome.result["ansible_facts"] == {"a": 1}


def test_assert_and_fail() -> None:
    v = Vars({"n": 3})
    assert ea.assert_({"that": ["n > 2"]}, v).outcome.status == "ok"
    bad = ea.assert_({"that": ["n > 2", "n < 3"], "fail_msg": "too big"}, v).outcome
    assert (bad.status, bad.msg, bad.result["assertion"]) == ("failed", "too big", "n < 3")
    assert ea.assert_({"that": "n == 4"}, v).outcome.msg == "Assertion failed: n == 4"
    assert ea.fail({}, v).outcome.msg == "Failed as requested from task"


def test_meta_flush_handlers() -> None:
    assert ea.meta({"_raw_params": "flush_handlers"}, Vars({})).flush_handlers
    assert not ea.meta({"_raw_params": "noop"}, Vars({})).flush_handlers


def test_include_vars_file_dir_and_name(tmp_path: Path) -> None:
    (tmp_path / "vars" / "d").mkdir(parents=True)
    (tmp_path / "vars" / "a.yml").write_text("a: 1\n")
    (tmp_path / "vars" / "d" / "1.yml").write_text("b: 1\n")
    (tmp_path / "vars" / "d" / "2.json").write_text('{"b": 2, "c": 3}')
    (tmp_path / "vars" / "d" / "skip.txt").write_text("nope")
    dirs = [str(tmp_path)]
    assert ea.include_vars({"_raw_params": "a.yml"}, Vars({}), dirs).set_facts == {"a": 1}
    assert ea.include_vars({"file": "a.yml", "name": "cfg"}, Vars({}), dirs).set_facts == {"cfg": {"a": 1}}
    assert ea.include_vars({"dir": "d"}, Vars({}), dirs).set_facts == {"b": 2, "c": 3}
    assert ea.include_vars({"dir": "d", "files_matching": "^1"}, Vars({}), dirs).set_facts == {"b": 1}
    with pytest.raises(UserError, match=r"no such file: b\.yml"):
        ea.include_vars({"file": "b.yml"}, Vars({}), dirs)


def test_pause_waits_and_refuses_a_bare_prompt() -> None:
    done = ea.pause({"seconds": 0.01, "prompt": "settle"}, Vars({}))
    assert done.outcome.status == "ok" and done.outcome.result["delta"] == 0
    bare = ea.pause({"prompt": "press enter"}, Vars({}))
    assert bare.outcome.status == "failed" and "key press" in bare.outcome.result["msg"]
    assert ea.pause({"minutes": "x"}, Vars({})).outcome.status == "failed"
