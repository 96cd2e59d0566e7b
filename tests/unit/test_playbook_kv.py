"""Free-form task arguments: key=value tokens are taken out, the rest is kept verbatim."""

from __future__ import annotations

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
