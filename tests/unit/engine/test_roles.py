"""Roles and the other Ansible playbook forms, through load_playbook and run_playbook (fakes).

Each test writes a small playbook with its roles under tmp_path: precedence of role
defaults and vars, dependencies run once, handlers of roles, tasks_from, import_playbook,
include_tasks loops, include_vars, ansible.builtin.* names, variables beside the playbook
and across plays, serial and any_errors_fatal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine.playbook import load_playbook
from kubeform.engine.results import RunResult
from kubeform.engine.roles import find_role, load_role
from kubeform.engine.runner import Options, run_playbook
from tests.unit.engine.fakes import FakePool, inventory, resolver, select


def write(root: Path, files: dict[str, Any]) -> None:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))


def run(tmp_path: Path, files: dict[str, Any], hosts: tuple[str, ...] = ("h1",), **opts: Any) -> RunResult:
    write(tmp_path, files)
    pb = load_playbook(tmp_path / "site.yml", resolver())
    return run_playbook(pb, inventory(*hosts), Options(**opts), FakePool(), resolver=resolver(), selector=select)


def msgs(result: RunResult, host: str = "h1") -> list[str]:
    return [r.msg for r in result.results if r.host == host and r.status == "ok" and r.msg]


def test_role_defaults_lose_to_inventory_and_vars_win_over_play(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "vars": {"b": "play", "c": "play"}, "roles": [{"role": "r", "d": "param"}]}],
        "roles/r/defaults/main.yml": {"a": "default", "b": "default", "d": "default"},
        "roles/r/vars/main.yml": {"c": "rolevar"},
        "roles/r/tasks/main.yml": [{"ansible.builtin.debug": {"msg": "{{ a }} {{ b }} {{ c }} {{ d }} {{ role_name }} {{ ansible_role_name }}"}}],
    })  # fmt: skip
    assert msgs(result) == ["default play rolevar param r r"]


def test_dependencies_run_first_and_once_and_handlers_come_from_roles(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "roles": ["a", "b"]}],
        "roles/base/tasks/main.yml": [{"name": "base", "debug": {"msg": "base"}}],
        "roles/a/meta/main.yml": {"dependencies": ["base"]},
        "roles/a/tasks/main.yml": [{"name": "a", "tfile": {"path": str(tmp_path / "a"), "content": "x"}, "notify": "h"}],
        "roles/a/handlers/main.yml": [{"name": "h", "debug": {"msg": "handled"}}],
        "roles/b/meta/main.yml": {"dependencies": [{"role": "base"}]},
        "roles/b/tasks/main.yml": [{"name": "b", "debug": {"msg": "b"}}],
    })  # fmt: skip
    assert [r.task for r in result.results] == ["base", "a", "b", "h"]
    assert not result.failed


def test_import_playbook_include_tasks_loop_and_builtin_names(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"ansible.builtin.import_playbook": "sub/inner.yml"}],
        "sub/inner.yml": [{"hosts": "all", "tasks": [
            {"ansible.builtin.include_tasks": "each.yml", "loop": [1, 2], "loop_control": {"loop_var": "n"}},
            {"ansible.builtin.set_fact": {"done": True}},
            {"ansible.builtin.assert": {"that": ["done"]}},
        ]}],
        "sub/each.yml": [{"ansible.builtin.debug": {"msg": "item {{ n }}"}}],
    })  # fmt: skip
    assert msgs(result) == ["item 1", "item 2"]
    assert not result.failed


def test_include_vars_from_the_role_and_across_plays(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [
            {"hosts": "all", "roles": ["r"], "tasks": [{"name": "reg", "debug": {"msg": "x"}, "register": "early"}]},
            {"hosts": "all", "tasks": [{"debug": {"msg": "{{ port }} {{ early.msg }} {{ named.port }}"}}]},
        ],
        "roles/r/vars/ports.yml": {"port": 8080},
        "roles/r/tasks/main.yml": [
            {"include_vars": "ports.yml"},
            {"include_vars": {"file": "ports.yml", "name": "named"}},
        ],
    })  # fmt: skip
    assert msgs(result)[-1] == "8080 x 8080"


def test_include_vars_of_a_missing_file_fails_the_task(tmp_path: Path) -> None:
    result = run(tmp_path, {"site.yml": [{"hosts": "all", "tasks": [{"name": "v", "include_vars": "{{ 'nope' }}.yml"}]}]})
    assert result.failed and "include_vars: no such file: nope.yml" in result.results[0].msg


def test_group_vars_and_host_vars_beside_the_playbook(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "tasks": [{"debug": {"msg": "{{ g }} {{ w }} {{ h }}"}}]}],
        "group_vars/all.yml": {"g": "all", "h": "group"},
        "group_vars/web/main.yml": {"w": "web"},
        "host_vars/h1.yml": {"h": "host"},
    })  # fmt: skip
    assert msgs(result) == ["all web host"]


def test_names_are_only_needed_where_used(tmp_path: Path) -> None:
    result = run(tmp_path, {"site.yml": [{"hosts": "all", "tasks": [
        {"name": "off", "debug": {"msg": "{{ nowhere }}"}, "when": "false"},
        {"name": "guarded", "debug": {"msg": "{{ item }}"}, "loop": "{{ maybe }}", "when": "maybe is defined"},
    ], "handlers": [{"name": "never", "debug": {"msg": "{{ also_nowhere }}"}}]}]})  # fmt: skip
    assert [r.status for r in result.results] == ["skipped", "skipped"]


def test_serial_runs_hosts_in_batches_and_any_errors_fatal_stops_all(tmp_path: Path) -> None:
    result = run(tmp_path, {"site.yml": [{"hosts": "all", "serial": 1, "any_errors_fatal": True, "tasks": [
        {"name": "fail on h1", "fail": {"msg": "no"}, "when": "inventory_hostname == 'h1'"},
    ]}, {"hosts": "all", "tasks": [{"name": "later", "debug": {"msg": "x"}}]}]}, hosts=("h1", "h2"))  # fmt: skip
    assert [(r.host, r.task) for r in result.results] == [("h1", "fail on h1")]


def test_check_mode_keyword_and_run_once(tmp_path: Path) -> None:
    target = tmp_path / "f"
    result = run(tmp_path, {"site.yml": [{"hosts": "all", "tasks": [
        {"name": "never", "tfile": {"path": str(target), "content": "x"}, "check_mode": True},
        {"name": "once", "debug": {"msg": "x"}, "run_once": True},
    ]}]}, hosts=("h1", "h2"))  # fmt: skip
    assert not target.exists()
    assert [(r.host, r.task, r.status) for r in result.results if r.task == "once"] == [("h1", "once", "ok"), ("h2", "once", "skipped")]


def test_key_value_booleans(tmp_path: Path) -> None:
    write(tmp_path, {"site.yml": [{"hosts": "all", "tasks": [{"stat": "path=/etc/hosts follow=yes get_checksum='no'"}]}]})
    task = load_playbook(tmp_path / "site.yml", resolver()).plays[0].all_tasks()[0]
    assert task.args == {"path": "/etc/hosts", "follow": True, "get_checksum": False}


def test_find_and_load_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"elsewhere/ns_role/defaults/main.yaml": {"x": 1}, "roles/local/tasks/main.yml": []})
    monkeypatch.setenv("ANSIBLE_ROLES_PATH", str(tmp_path / "elsewhere"))
    assert find_role("local", tmp_path, None) == tmp_path / "roles" / "local"
    found = find_role("acme.tools.ns_role", tmp_path, None)
    assert found == tmp_path / "elsewhere" / "ns_role"
    assert load_role("ns_role", found).defaults == {"x": 1}
    assert find_role("missing", tmp_path, None) is None


def test_a_dependency_cycle_ends(tmp_path: Path) -> None:
    write(tmp_path, {
        "site.yml": [{"hosts": "all", "roles": ["a"]}],
        "roles/a/meta/main.yml": {"dependencies": [{"role": "b", "p": 1}]},
        "roles/a/tasks/main.yml": [{"name": "a", "debug": {"msg": "a"}}],
        "roles/b/meta/main.yml": {"dependencies": [{"role": "a", "p": 2}]},
        "roles/b/tasks/main.yml": [{"name": "b", "debug": {"msg": "b"}}],
    })  # fmt: skip
    play = load_playbook(tmp_path / "site.yml", resolver()).plays[0]
    assert [t.name for t in play.all_tasks()] == ["a", "b", "a"]


def test_defaults_main_directory_and_role_path_under_roles(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "roles": ["kubernetes/preinstall"]}],
        "roles/kubernetes/preinstall/defaults/main/a.yml": {"a": "from-a", "b": "from-a"},
        "roles/kubernetes/preinstall/defaults/main/b.yml": {"b": "from-b"},
        "roles/kubernetes/preinstall/tasks/main.yml": [{"debug": {"msg": "{{ a }} {{ b }}"}}],
    })  # fmt: skip
    assert msgs(result) == ["from-a from-b"]


def test_with_first_found_include_vars_and_first_found_lookup(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "roles": ["r"]}],
        "roles/r/vars/Debian.yml": {"pkg": "apt-one"},
        "roles/r/vars/main.yml": {"other": "o"},
        "roles/r/tasks/main.yml": [
            {"include_vars": "{{ item }}", "with_first_found": [{"files": ["Nope-{{ inventory_hostname }}.yml", "Debian.yml"], "skip": True}]},
            {"debug": {"msg": "{{ pkg }}"}},
            {"include_vars": "{{ lookup('first_found', params) }}",
             "vars": {"params": {"files": ["missing.yml", "main.yml"], "paths": ["vars"]}}},
            {"debug": {"msg": "{{ other }} {{ lookup('env', 'KUBEFORM_NO_SUCH_VAR') }}|{{ query('vars', 'other') }}"}},
            {"debug": {"msg": "skipped"}, "with_first_found": [{"files": ["none.yml"], "skip": True}]},
        ],
    })  # fmt: skip
    assert msgs(result) == ["apt-one", "o |['o']"]
    assert not result.failed


def test_first_found_without_skip_fails_the_task(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "tasks": [{"name": "ff", "debug": {"msg": "{{ item }}"}, "with_first_found": ["a.yml", "b.yml"]}]}],
    })  # fmt: skip
    assert result.failed
    assert any("none of these files was found: a.yml, b.yml" in (r.msg or "") for r in result.results)


def test_bare_include_is_include_tasks(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "tasks": [{"include": "more.yml"}]}],
        "more.yml": [{"debug": {"msg": "included"}}],
    })  # fmt: skip
    assert msgs(result) == ["included"]


def test_set_fact_with_templated_names_and_varnames_lookup(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "vars": {"given": "user", "os_vars": {"given": "os", "pkg": "auditd"}}, "tasks": [
            {"set_fact": {"{{ item.key }}": "{{ item.value }}"}, "when": "not lookup('varnames', '^' + item.key + '$')",
             "with_dict": "{{ os_vars }}"},
            {"debug": {"msg": "{{ given }} {{ pkg }}"}},
        ]}],
    })  # fmt: skip
    assert msgs(result) == ["user auditd"]


def test_templated_include_tasks_picks_the_file_found(tmp_path: Path) -> None:
    result = run(tmp_path, {
        "site.yml": [{"hosts": "all", "roles": ["pi"]}],
        "roles/pi/tasks/main.yml": [
            {"set_fact": {"distro": "Debian"}},
            {"name": "os tasks", "include_tasks": "{{ item }}",
             "with_first_found": ["prereq/{{ distro }}-12.yml", "prereq/{{ distro }}.yml", "prereq/default.yml"]},
            {"name": "by name", "include_tasks": "prereq/{{ other }}.yml", "vars": {"other": "default"}},
        ],
        "roles/pi/tasks/prereq/Debian.yml": [{"debug": {"msg": "debian"}}],
        "roles/pi/tasks/prereq/default.yml": [{"debug": {"msg": "default"}}],
        "roles/pi/tasks/prereq/Broken.yml": [{"no_such_module": {}}],
    })  # fmt: skip
    assert msgs(result) == ["debian", "default"]
    assert not result.failed


def test_a_variable_reading_hostvars_of_its_own_host(tmp_path: Path) -> None:
    """k3s-ansible's api_endpoint: an inventory variable reading hostvars (no self-reference)."""
    write(tmp_path, {"site.yml": [{"hosts": "all", "tasks": [{"debug": {"msg": "{{ endpoint }} {{ hostvars['h2'].endpoint }}"}}]}]})
    pb = load_playbook(tmp_path / "site.yml", resolver())
    inv = inventory("h1", "h2", endpoint="{{ hostvars[groups['all'][0]]['addr'] | default(groups['all'][0]) }}", addr="10.0.0.1")
    result = run_playbook(pb, inv, Options(), FakePool(), resolver=resolver(), selector=select)
    assert msgs(result) == ["10.0.0.1 10.0.0.1"], result
