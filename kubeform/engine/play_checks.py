"""Checks of a play made before connecting: every name a template reads is defined
somewhere, and whether the play needs the system facts (``ansible_*``) at all.

Pure over the parsed play, its hosts' variables and the extra vars (a ``template``
task's file beside the playbook is read to see which names it uses).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubeform.engine import templating
from kubeform.engine.magic_vars import MAGIC_NAMES
from kubeform.engine.playbook import Play, Task
from kubeform.errors import UserError
from kubeform.inventory.model import Host


def check_names(play: Play, hosts: Sequence[Host], extra_vars: Mapping[str, Any]) -> None:
    """Before connecting: every variable a template reads must be defined somewhere.

    Known names: inventory vars of the play's hosts, play vars and vars files, extra
    vars, task vars, registered names and set_fact keys of the play, loop variables,
    facts (``ansible_*``) and the magic variables. Anything else is a typo.
    """
    known: set[str] = set(MAGIC_NAMES) | set(templating.ENV.globals) | set(play.vars) | set(play.vars_files) | set(extra_vars)
    for h in hosts:
        known |= set(h.vars)
    tasks = [*play.all_tasks(), *play.handlers]
    for t in tasks:
        known |= set(t.vars)
        known.add(t.loop_var)
        if t.index_var:
            known.add(t.index_var)
        if t.register:
            known.add(t.register)
        if t.action == "set_fact" and isinstance(t.args, Mapping):
            known |= {str(k) for k in t.args}
    for t in tasks:
        fields: list[tuple[str, Any, bool]] = [(k, v, False) for k, v in t.templates().items()]
        fields += [(k, list(v), True) for k, v in t.expressions().items()]
        # ``x | default(..)`` or ``when: x is defined`` anywhere in the task makes x optional.
        optional = known | {n for _, v, e in fields for n in templating.guarded_names(v, expression=e)}
        for key, value, expr in fields:
            if key == "args" and isinstance(value, Mapping):
                for ak, av in value.items():
                    shown = t.action if ak == "_raw_params" else f"{t.action}.{ak}"
                    _check_value(t, shown, t.arg_lines.get(str(ak)), av, False, optional)
                continue
            line = t.key_lines.get(t.action if key in ("args", "that") else key)
            _check_value(t, t.action if key == "args" else key, line, value, expr, optional)


def _check_value(t: Task, fieldname: str, line: int | None, value: Any, expr: bool, known: set[str]) -> None:
    for name in sorted(templating.referenced_names(value, expression=expr)):
        if name in known or name.startswith("ansible_"):
            continue
        raise t.where.error(f"undefined variable '{name}'", field=fieldname, line=line, hint=f"task '{t.name}'")


def template_file_names(t: Task, base_dir: str | None) -> set[str]:
    """Names read by the Jinja2 file of a ``template`` task (its ``src``, controller side).

    A template file is the most common reader of facts (``{{ ansible_hostname }}``), yet
    it is only read when the task is prepared on a host; without this the play would
    not gather facts and the template would fail with an undefined fact. A ``src`` that
    is itself a template cannot be resolved here: it counts as reading ``ansible_facts``.
    """
    if base_dir is None or t.action != "template" or not isinstance(t.args, Mapping):
        return set()
    src = t.args.get("src")
    if not isinstance(src, str):
        return set()
    if templating.is_template(src):
        return {"ansible_facts"}
    p = Path(src)
    for c in [p] if p.is_absolute() else [Path(base_dir) / sub / p for sub in ("", "files", "templates")]:
        if c.is_file():
            try:
                return set(templating.referenced_names(c.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError, UserError):
                return set()  # reported with file and field when the task is prepared
    return set()


def play_needs_system_facts(
    play: Play, hosts: Sequence[Host], extra_vars: Mapping[str, Any], base_dir: str | None = None
) -> bool:
    """Whether any task (or the file of a ``template`` task) reads an undefined ``ansible_*`` fact."""
    defined: set[str] = set(play.vars) | set(play.vars_files) | set(extra_vars)
    for h in hosts:
        defined |= set(h.vars)
    for t in [*play.all_tasks(), *play.handlers]:
        names: set[str] = template_file_names(t, base_dir)
        for value in t.templates().values():
            names |= templating.referenced_names(value)
        for exprs in t.expressions().values():
            names |= templating.referenced_names(list(exprs), expression=True)
        names |= templating.referenced_names(dict(t.vars))
        for n in names:
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES and n not in t.vars):
                return True
    for value in [*play.vars.values(), *play.vars_files.values()]:
        for n in templating.referenced_names(value):
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES):
                return True
    return False
