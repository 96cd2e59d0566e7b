"""Free-form task arguments: key=value tokens are taken out, the rest is kept verbatim."""

from __future__ import annotations

from pathlib import Path

from kubeform.engine.playbook import Where, parse_kv

WHERE = Where(file="p.yml", line=3, path="tasks[0]")


def test_multiline_script_keeps_its_newlines() -> None:
    script = "for x in a b; do\n  echo $x\ndone\n"
    args = parse_kv(script, free_form=True, known={"chdir"}, where=WHERE, action="shell")
    assert args == {"_raw_params": script.strip()}


def test_known_tokens_are_removed_from_the_command() -> None:
    args = parse_kv(
        "make install chdir=/src creates=/usr/bin/app",
        free_form=True,
        known={"chdir", "creates"},
        where=WHERE,
        action="command",
    )
    assert args == {"_raw_params": "make install", "chdir": "/src", "creates": "/usr/bin/app"}


def test_unknown_key_value_stays_in_a_free_form_command() -> None:
    args = parse_kv("env FOO=1 run", free_form=True, known=set(), where=WHERE, action="command")
    assert args == {"_raw_params": "env FOO=1 run"}


def test_meta_flush_handlers_loads(tmp_path: Path) -> None:
    from kubeform.engine.playbook import load_playbook

    book = tmp_path / "p.yml"
    book.write_text("- hosts: all\n  tasks:\n    - meta: flush_handlers\n")
    task = load_playbook(str(book)).plays[0].tasks[0]
    assert task.action == "meta"
    assert task.args == {"_raw_params": "flush_handlers"}
