"""Runner semantics with a recording connection and tiny test modules.

Each test writes a small playbook under tmp_path (every file the tasks touch is there
too), runs it through ``run_playbook`` and checks results, recap, round trips, and what
was (not) written on the "host".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.engine.playbook import load_playbook
from kubeform.engine.render import status_line
from kubeform.engine.results import RunResult
from kubeform.engine.runner import Options, run_playbook
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from kubeform.modules.base import Fact
from tests.unit.engine.fakes import (
    SYSTEM,
    FakePool,
    counting_system_fact,
    inventory,
    resolver,
    select,
)


def run(
    tmp_path: Path,
    text: str,
    *,
    hosts: tuple[str, ...] = ("h1",),
    pool: FakePool | None = None,
    host_vars: dict[str, Any] | None = None,
    system_fact: Fact = SYSTEM,
    **opts: Any,
) -> tuple[RunResult, FakePool]:
    pb = tmp_path / "pb.yml"
    pb.write_text(text.replace("ROOT", str(tmp_path)))
    inv = inventory(*hosts, **(host_vars or {}))
    pool = pool or FakePool()
    result = run_playbook(
        load_playbook(pb, resolver()), inv, Options(**opts), pool,
        resolver=resolver(), selector=select, system_fact=system_fact,
    )  # fmt: skip
    return result, pool


def statuses(result: RunResult, host: str = "h1") -> list[tuple[str, str]]:
    return [(r.task, r.status) for r in result.results if r.host == host]


def msgs(result: RunResult) -> list[str]:
    return [r.msg for r in result.results]


def test_variable_precedence(tmp_path: Path) -> None:
    (tmp_path / "vf.yml").write_text("c: vars_files\nd: vars_files\ne: vars_files\n")
    text = """
- hosts: all
  vars: {b: play, c: play, d: play, e: play}
  vars_files: [vf.yml]
  tasks:
    - debug: msg="{{ a }} {{ b }} {{ c }} {{ d }} {{ e }}"
      vars: {d: task, e: task}
    - set_fact: {d: registered}
    - debug: msg="{{ d }}"
      vars: {d: task}
"""
    result, _ = run(tmp_path, text, host_vars=dict.fromkeys("abcde", "inventory"), extra_vars={"e": "extra"})
    assert msgs(result) == ["inventory play vars_files task extra", "", "registered"]


def test_vars_may_refer_to_each_other_lazily(tmp_path: Path) -> None:
    text = """
- hosts: all
  vars: {url: "http://{{ host }}:{{ port }}", host: "{{ inventory_hostname }}.lan", port: 80}
  tasks:
    - debug: msg="{{ url }}"
"""
    result, _ = run(tmp_path, text)
    assert msgs(result) == ["http://h1.lan:80"]


def test_when_loop_register(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: values
      tvalue: path=ROOT/{{ item }} value={{ item }}
      loop: [a, b, c]
      when: item != 'b'
      register: out
    - debug: msg="{{ out.results | map(attribute='changed') | list }} {{ out.changed }}"
    - name: custom loop var
      debug: msg="{{ thing }}-{{ i }}"
      loop: [x]
      loop_control: {loop_var: thing, index_var: i}
"""
    result, _ = run(tmp_path, text)
    assert statuses(result)[0] == ("values", "changed")
    assert (tmp_path / "a").read_text() == "a" and not (tmp_path / "b").exists()
    assert result.results[1].msg == "[True, False, True] True"
    assert result.results[2].msg == "x-0"


def test_free_form_and_key_value_arguments(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - tcmd: touch ROOT/made creates=ROOT/made
    - tcmd: touch ROOT/made creates=ROOT/made
    - tfile: path=ROOT/kv content="two words"
"""
    result, _ = run(tmp_path, text)
    assert [r.status for r in result.results] == ["changed", "ok", "changed"]
    assert (tmp_path / "kv").read_text() == "two words"


def test_handlers_run_once_in_order_only_where_notified(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - tfile: {path: "ROOT/{{ inventory_hostname }}-1", content: "{{ content }}"}
      notify: [second, first]
    - tfile: {path: "ROOT/{{ inventory_hostname }}-2", content: "{{ content }}"}
      notify: topic
  handlers:
    - name: first
      tcmd: echo first >> ROOT/{{ inventory_hostname }}-log
    - name: second
      tcmd: echo second >> ROOT/{{ inventory_hostname }}-log
      listen: topic
"""
    (tmp_path / "h2-1").write_text("same")
    (tmp_path / "h2-2").write_text("same")
    result, _ = run(tmp_path, text, hosts=("h1", "h2"), host_vars={"content": "same"})
    assert (tmp_path / "h1-log").read_text() == "first\nsecond\n"
    assert not (tmp_path / "h2-log").exists()
    assert [r.task for r in result.results if r.handler] == ["first", "second"]


def test_tags(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - {name: a, debug: {msg: a}, tags: [one]}
    - {name: b, debug: {msg: b}, tags: [two]}
    - {name: c, debug: {msg: c}, tags: [always]}
    - {name: d, debug: {msg: d}, tags: [never, debugging]}
    - {name: e, debug: {msg: e}}
"""
    def names(**opts: Any) -> list[str]:
        return [r.task for r in run(tmp_path, text, **opts)[0].results]

    assert names() == ["a", "b", "c", "e"]
    assert names(tags=frozenset({"one"})) == ["a", "c"]
    assert names(tags=frozenset({"debugging"})) == ["c", "d"]
    assert names(skip_tags=frozenset({"two", "always"})) == ["a", "e"]


def test_failure_stops_host_not_others_and_ignore_errors(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: may fail
      tcmd: test {{ inventory_hostname }} = h2
      ignore_errors: "{{ inventory_hostname == 'h3' }}"
    - name: after
      debug: msg=after
"""
    result, _ = run(tmp_path, text, hosts=("h1", "h2", "h3"))
    recap = result.recap()
    assert recap["h1"]["failed"] == 1 and statuses(result, "h1") == [("may fail", "failed")]
    assert statuses(result, "h2") == [("may fail", "changed"), ("after", "ok")]
    assert recap["h3"]["ignored"] == 1 and recap["h3"]["failed"] == 0 and recap["h3"]["ok"] == 1
    assert result.failed
    assert "test h1 = h2 failed (rc=1)" in result.results[0].msg


def test_unreachable_host_does_not_stop_others(tmp_path: Path) -> None:
    text = "- hosts: all\n  tasks:\n    - tfile: {path: 'ROOT/{{ inventory_hostname }}', content: x}\n"
    result, _ = run(tmp_path, text, hosts=("h1", "h2"), pool=FakePool(unreachable={"h2"}))
    recap = result.recap()
    assert recap["h2"]["unreachable"] == 1 and recap["h1"]["changed"] == 1
    assert (tmp_path / "h1").exists()
    assert result.failed


def test_retries_until(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: count
      tcmd: echo x >> ROOT/count; wc -l < ROOT/count
      register: r
      until: r.stdout | int >= 3
      retries: 5
      delay: 0
"""
    result, _ = run(tmp_path, text)
    assert result.results[0].status == "changed"
    assert (tmp_path / "count").read_text().count("x") == 3


def test_changed_when_failed_when(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: quiet
      tcmd: echo hello
      register: r
      changed_when: false
    - name: judged by output
      tcmd: echo ERROR
      register: e
      failed_when: "'ERROR' in e.stdout"
"""
    result, _ = run(tmp_path, text)
    assert statuses(result) == [("quiet", "ok"), ("judged by output", "failed")]
    assert result.results[1].msg == "failed_when condition is true"


def test_block_rescue_always(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - block:
        - {name: fails, tcmd: "false"}
        - {name: not reached, debug: {msg: no}}
      rescue:
        - {name: rescue, debug: {msg: rescued}}
      always:
        - {name: always, debug: {msg: always}}
      when: true
    - {name: continues, debug: {msg: yes}}
"""
    result, _ = run(tmp_path, text)
    assert [r.task for r in result.results] == ["fails", "rescue", "always", "continues"]
    recap = result.recap()["h1"]
    assert recap["rescued"] == 1 and recap["failed"] == 0
    assert not result.failed


def test_include_tasks(tmp_path: Path) -> None:
    (tmp_path / "inc.yml").write_text("- {name: included, debug: {msg: '{{ v }}'}}\n")
    text = "- hosts: all\n  tasks:\n    - include_tasks: inc.yml\n      vars: {v: from-include}\n"
    result, _ = run(tmp_path, text)
    assert msgs(result) == ["from-include"]


def test_check_mode_changes_nothing_and_marks_dependencies(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: write
      tfile: {path: ROOT/f, content: new}
      register: w
      notify: h
    - name: uses write
      tcmd: echo {{ w.changed }}
    - name: guarded
      debug: msg=hi
      when: w is changed
    - name: independent
      tvalue: {path: ROOT/v, value: 2}
  handlers:
    - {name: h, tcmd: echo}
"""
    (tmp_path / "v").write_text("1")
    result, pool = run(tmp_path, text, check=True)
    assert not (tmp_path / "f").exists() and (tmp_path / "v").read_text() == "1"
    assert pool.conns["h1"].puts == []
    assert statuses(result) == [
        ("write", "changed"), ("uses write", "depends"), ("guarded", "depends"), ("independent", "changed"), ("h", "depends"),
    ]
    assert result.results[1].msg == "depends on write (would change)"
    summary = result.plan()
    assert (summary.add, summary.change, summary.remove, summary.depends) == (1, 1, 0, 3)
    assert summary.line() == "Plan: 1 to add, 1 to change, 0 to remove, on 1 host. 3 task(s) depend on earlier changes."


def test_facts_batched_in_one_round_trip_and_idempotent(tmp_path: Path) -> None:
    tasks = "".join(f"    - tfile: {{path: ROOT/f{i}, content: 'c{i}'}}\n" for i in range(20))
    text = "- hosts: all\n  tasks:\n" + tasks
    first, pool1 = run(tmp_path, text)
    assert first.recap()["h1"]["changed"] == 20
    # 20 changes: each makes the cached facts stale, so at most one batch per task.
    assert len(pool1.conns["h1"].commands) <= 20
    second, pool2 = run(tmp_path, text)
    assert second.recap()["h1"]["changed"] == 0
    assert len(pool2.conns["h1"].commands) == 1, "an idempotent run needs one round trip"


def test_system_facts_only_when_read(tmp_path: Path) -> None:
    _, pool = run(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=x\n")
    assert not any("Debian" in c for c in pool.conns["h1"].commands)
    text = "- hosts: all\n  tasks:\n    - debug: msg={{ ansible_os_family }}\n      when: ansible_distribution_major_version | int >= 12\n"
    result, pool = run(tmp_path, text)
    assert msgs(result) == ["Debian"]


def test_volatile_facts_probed_right_before_each_task_that_needs_them(tmp_path: Path) -> None:
    (tmp_path / "a").write_text("x")
    text = """
- hosts: all
  tasks:
    - tfile: {path: ROOT/a, content: x}
    - {tprobe: {path: ROOT/count}, register: p1}
    - {tprobe: {path: ROOT/count}, register: p2}
    - debug: msg="{{ p1.value }} {{ p2.value }}"
"""
    result, pool = run(tmp_path, text)
    assert [r.status for r in result.results] == ["ok", "ok", "ok", "ok"]
    # Not in the up-front batch, and probed again for the second task although nothing
    # changed in between (a port may close without the engine doing anything).
    assert msgs(result)[-1] == "1 2"
    commands = pool.conns["h1"].commands
    assert "count" not in commands[0] and f"{tmp_path}/a" in commands[0]
    assert len(commands) == 3


def test_reconnect_makes_system_facts_gathered_again(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - debug: msg="{{ ansible_kernel }}"
    - name: reboot-like
      treconnect: {}
      changed_when: ansible_kernel == 'kernel-1'
    - debug: msg="{{ ansible_kernel }} {{ hostvars[inventory_hostname].ansible_kernel }}"
"""
    result, _ = run(tmp_path, text, system_fact=counting_system_fact(str(tmp_path / "boots")))
    assert statuses(result)[1] == ("reboot-like", "changed")  # the task itself keeps its facts
    assert msgs(result)[0] == "kernel-1"
    assert msgs(result)[-1] == "kernel-2 kernel-2"


def test_unmatched_patterns_warn_and_go_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = """
- hosts: web:nosuchgroup
  name: p
  tasks:
    - debug: msg=x
"""
    result, _ = run(tmp_path, text, hosts=("h1", "h2"), limit="h2,ghost")
    assert [r.host for r in result.results] == ["h2"]
    assert result.warnings == [
        "play 'p': hosts pattern 'nosuchgroup' matches no host or group",
        "--limit 'ghost' matches no host or group",
    ]
    assert not result.failed
    err = capsys.readouterr().err.splitlines()
    assert err == [f"kubeform: warning: {w}" for w in result.warnings]
    assert result.as_dict()["warnings"] == result.warnings


def test_secrets_masked_in_results(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - tfile: {path: ROOT/s, content: hunter2, secret: true}
    - name: quiet
      tfile: {path: ROOT/t, content: hunter3}
      no_log: true
"""
    result, _ = run(tmp_path, text, check=True)
    dumped = str(result.as_dict())
    assert "hunter2" not in dumped and "hunter3" not in dumped
    diff = result.results[0].changes[0].diff
    assert diff is not None and diff.secret and diff.after is not None and diff.after.startswith("(secret hmac-sha256:")
    assert "7 bytes" in diff.after


@pytest.mark.parametrize("forks", [1, 3])
def test_many_hosts_in_parallel(tmp_path: Path, forks: int) -> None:
    text = "- hosts: all\n  tasks:\n    - tfile: {path: 'ROOT/{{ inventory_hostname }}', content: x}\n"
    hosts = tuple(f"h{i}" for i in range(6))
    result, _ = run(tmp_path, text, hosts=hosts, forks=forks)
    assert all(c["changed"] == 1 for c in result.recap().values())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("h")) == sorted(hosts)


def test_limit_and_play_patterns(tmp_path: Path) -> None:
    text = "- hosts: web\n  tasks:\n    - debug: msg=x\n"
    result, _ = run(tmp_path, text, hosts=("h1", "h2"), limit="h2")
    assert [r.host for r in result.results] == ["h2"]


def test_limit_matching_nothing_is_an_error(tmp_path: Path) -> None:
    text = "- hosts: all\n  tasks:\n    - debug: msg=x\n"
    with pytest.raises(UserError, match="--limit 'ghost' matches no host"):
        run(tmp_path, text, hosts=("h1", "h2"), limit="ghost")


def test_assert_and_fail(tmp_path: Path) -> None:
    text = """
- hosts: all
  vars: {n: 3}
  tasks:
    - assert: {that: ["n > 1", "n < 5"]}
    - assert: {that: "n > 4", fail_msg: "n too small"}
"""
    result, _ = run(tmp_path, text)
    assert statuses(result) == [("assert", "ok"), ("assert", "failed")]
    assert result.results[1].msg == "n too small"


def test_default_and_is_defined_make_a_name_optional(tmp_path: Path) -> None:
    """Ansible's idioms for optional variables pass the check before connecting."""
    text = """
- hosts: all
  tasks:
    - debug: msg="{{ extra | default('none') }} {{ other | d(1) }}"
    - debug: msg="{{ maybe }}"
      when: maybe is defined
    - debug: msg="set"
      when: flag is undefined
"""
    result, _ = run(tmp_path, text)
    assert [r.status for r in result.results] == ["ok", "skipped", "ok"]
    assert msgs(result)[0] == "none 1"


def test_an_unguarded_undefined_name_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"undefined variable 'typo'"):
        run(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=\"{{ typo }} {{ other | default(1) }}\"\n")


def test_template_file_reading_facts_makes_the_play_gather_them(tmp_path: Path) -> None:
    """A fact read only inside the template's file is gathered (it was 'undefined')."""
    (tmp_path / "t.j2").write_text("family={{ ansible_os_family }}\n")
    text = """
- hosts: all
  tasks:
    - template: {src: t.j2, dest: ROOT/out}
"""
    result, _ = run(tmp_path, text)
    assert [r.status for r in result.results] == ["changed"], result.errors
    assert (tmp_path / "out").read_text() == "family=Debian\n"


def test_limit_does_not_make_other_plays_variables_undefined(tmp_path: Path) -> None:
    """Names are checked against the play's whole pattern, not only the --limit'ed hosts."""
    inv = inventory("h1")
    inv.hosts["h2"] = Host(name="h2", vars={"root": str(tmp_path)}, groups=["all", "db"])
    inv.groups = {"all": ["h1", "h2"], "web": ["h1"], "db": ["h2"]}
    pb = tmp_path / "pb.yml"
    pb.write_text("- hosts: web\n  tasks:\n    - debug: msg=hi\n- hosts: db\n  tasks:\n    - debug: msg=\"{{ root }}\"\n")
    result = run_playbook(
        load_playbook(pb, resolver()), inv, Options(limit="h1"), FakePool(),
        resolver=resolver(), selector=select, system_fact=SYSTEM,
    )  # fmt: skip
    assert [(r.host, r.status) for r in result.results] == [("h1", "ok")]


def test_debug_message_is_output_without_verbose(tmp_path: Path) -> None:
    result, _ = run(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=\"hello {{ inventory_hostname }}\"\n")
    assert status_line(result.results[0])[1] == "ok: [h1] debug: hello h1 => hello h1"


def test_until_exhausted_says_so(tmp_path: Path) -> None:
    text = """
- hosts: all
  tasks:
    - name: never
      tcmd: "true"
      register: r
      until: r.rc == 1
      retries: 1
      delay: 0
"""
    result, _ = run(tmp_path, text)
    assert [(r.status, r.msg) for r in result.results] == [("failed", "'until' still false after 2 attempts")]


def test_retries_that_render_to_no_number_fail_the_task_with_its_line(tmp_path: Path) -> None:
    text = """
- hosts: all
  vars: {n: lots}
  tasks:
    - name: bad
      tcmd: "true"
      register: r
      until: r.rc == 0
      retries: "{{ n }}"
"""
    result, _ = run(tmp_path, text)
    assert result.errors == [f"{tmp_path / 'pb.yml'}:9: tasks[0].retries: must be an integer, got 'lots' (task 'bad')"]


def test_a_rendered_argument_of_the_wrong_type_names_its_own_line(tmp_path: Path) -> None:
    text = """
- hosts: all
  vars: {mode: [1]}
  tasks:
    - name: bad mode
      tfile:
        path: ROOT/x
        content: a
        mode: "{{ mode }}"
"""
    result, _ = run(tmp_path, text)
    assert result.errors == [f"{tmp_path / 'pb.yml'}:9: tasks[0].tfile.mode: must be a string or an integer (task 'bad mode')"]


def test_default_after_attribute_access_of_an_undefined_name(tmp_path: Path) -> None:
    result, _ = run(tmp_path, "- hosts: all\n  tasks:\n    - debug: msg=\"{{ cfg.port | default(80) }}\"\n")
    assert msgs(result) == ["80"]
