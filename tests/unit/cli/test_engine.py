"""The run/plan verbs: user mistakes end in one line and exit 1; -e parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.cli.main import main
from kubeform.engine.extra_vars import parse_extra_vars
from kubeform.errors import UserError


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    inv = tmp_path / "inventory.yml"
    inv.write_text("all:\n  hosts:\n    h1: {ansible_host: 127.0.0.1}\n")
    return inv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- hosts: all\n  tasks:\n    - name: x\n\t  copy: {}\n", "pb.yml:4: invalid YAML"),
        ("- hosts: all\n  tasks:\n    - copy: {dest: /tmp/x, content: a, mode: 1.5}\n", "pb.yml:3: tasks[0].copy.mode: must be"),
        ("- hosts: all\n  tasks:\n    - debug: msg={{ nope }}\n", "pb.yml:3: tasks[0].debug.msg: undefined variable 'nope'"),
    ],
)
def test_mistakes_are_one_line_exit_1(
    text: str, expected: str, tmp_path: Path, inventory: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pb.yml").write_text(text)
    for verb in ("run", "plan"):
        rc = main([verb, "pb.yml", "-i", str(inventory)])
        err = capsys.readouterr().err
        assert rc == 1
        assert err.startswith(f"kubeform: error: {expected}"), err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_extra_vars_forms(tmp_path: Path) -> None:
    f = tmp_path / "vars.yml"
    f.write_text("a: 1\nl: [x]\n")
    got = parse_extra_vars(["@" + str(f), "b=two c='three four'", '{"d": [1, 2]}', "a=override"])
    assert got == {"a": "override", "l": ["x"], "b": "two", "c": "three four", "d": [1, 2]}
    with pytest.raises(UserError):
        parse_extra_vars(["not-a-pair"])
    with pytest.raises(UserError):
        parse_extra_vars(["@" + str(tmp_path / "missing.yml")])


def test_forks_below_one_is_one_plain_message(tmp_path: Path, inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pb.yml").write_text("- hosts: all\n  tasks: []\n")
    assert main(["run", str(tmp_path / "pb.yml"), "-i", str(inventory), "-f", "0"]) == 1
    assert capsys.readouterr().err == "kubeform: error: --forks: must be at least 1\n"


CHECK_ALL = Path(__file__).resolve().parent.parent.parent / "data" / "engine" / "check_all"


def test_check_all_lists_every_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inventory.yml"
    inv.write_text("all: {hosts: {h1: {ansible_host: 127.0.0.9}}}\n")
    rc = main(["plan", str(CHECK_ALL / "site.yml"), "-i", str(inv), "--check-all"])
    err = capsys.readouterr().err.replace(str(CHECK_ALL) + "/", "")
    assert rc == 1
    expected = [f"kubeform: error: {line}" for line in (CHECK_ALL / "expected.txt").read_text().splitlines()]
    assert err.splitlines() == [*expected, "kubeform: 5 problems found"]


def test_without_check_all_the_first_mistake_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = tmp_path / "inventory.yml"
    inv.write_text("all: {hosts: {h1: {ansible_host: 127.0.0.9}}}\n")
    assert main(["plan", str(CHECK_ALL / "site.yml"), "-i", str(inv)]) == 1
    assert capsys.readouterr().err.count("kubeform: error:") == 1
