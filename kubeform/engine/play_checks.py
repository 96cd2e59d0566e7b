"""Checks of a play made before connecting: every name a template reads is defined
somewhere, and whether the play needs the system facts (``ansible_*``) at all.

Pure over the parsed play, its hosts' variables and the extra vars (a ``template``
task's file beside the playbook is read to see which names it uses).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeform.engine import templating
from kubeform.engine.magic_vars import MAGIC_NAMES
from kubeform.engine.playbook import Block, Node, Play, Task
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from kubeform.modules import lookup
from kubeform.yamlsrc import load_file


def _blocks(nodes: Sequence[Node]) -> list[Block]:
    out: list[Block] = []
    for n in nodes:
        if isinstance(n, Block):
            out.append(n)
            out.extend(_blocks([*n.block, *n.rescue, *n.always]))
    return out


def included_var_names(t: Task, base_dir: str | None) -> set[str] | None:
    """The names an ``include_vars`` task defines, read from its file; None when unknowable."""
    if t.action != "include_vars" or not isinstance(t.args, Mapping):
        return set()
    if t.args.get("name"):
        name = t.args["name"]
        return None if templating.is_template(name) else {str(name)}
    target = t.args.get("file", t.args.get("_raw_params"))
    if not isinstance(target, str) or templating.is_template(target) or t.args.get("dir"):
        return None
    from kubeform.engine.task_inputs import local_candidates

    for c in local_candidates(target.strip(), [*t.search_dirs, base_dir or "."], ("vars", "")):
        if c.is_file():
            try:
                data = load_file(c)
            except UserError:
                return None  # reported with its line when the task runs
            return {str(k) for k in data} if isinstance(data, Mapping) else set()
    return None


def unknowable_from(play: Play, base_dir: str | None = None) -> int | None:
    """The ``seq`` of the play's first ``include_vars`` or ``set_fact`` whose names cannot
    be known before connecting (a templated or looked-up file name, a templated variable
    name), or None: tasks after it are left to run time, as the docs promise."""
    seqs = [t.seq for t in play.all_tasks() if (t.action == "include_vars" and included_var_names(t, base_dir) is None)
            or (t.action == "set_fact" and isinstance(t.args, Mapping) and any(templating.is_template(k) for k in t.args))]  # fmt: skip
    return min(seqs) if seqs else None


def defined_names(play: Play, base_dir: str | None = None) -> tuple[set[str], bool]:
    """Names the play defines while it runs (registered, set_fact, include_vars), and
    whether they are all known (an include_vars of a templated file is not)."""
    names: set[str] = set()
    complete = True
    for t in [*play.all_tasks(), *play.handlers]:
        if t.register:
            names.add(t.register)
        if t.action == "set_fact" and isinstance(t.args, Mapping):
            names |= {str(k) for k in t.args}
        module = lookup(t.action)
        if module is not None:
            names |= set(module.fact_names)
        included = included_var_names(t, base_dir)
        if included is None:
            complete = False
        else:
            names |= included
    return names, complete


def check_names(
    play: Play, hosts: Sequence[Host], extra_vars: Mapping[str, Any], earlier: Iterable[str] = (),
    base_dir: str | None = None, collect: list[UserError] | None = None,
) -> None:  # fmt: skip
    """Before connecting: every variable a template reads must be defined somewhere.

    Known names: inventory vars of the play's hosts, play vars and vars files, role
    defaults and vars, extra vars, task vars, names registered, set or included by this
    play or an ``earlier`` one, loop variables, facts (``ansible_*``) and the magic
    variables. Anything else is a typo. As in Ansible, a name is only needed when it is
    used: of a task with a ``when`` only the condition is checked, and a handler nobody
    notifies not at all (an undefined name then fails the task that reads it, with its line).
    """
    known: set[str] = set(MAGIC_NAMES) | set(templating.ENV.globals) | set(play.vars) | set(play.vars_files) | set(extra_vars)
    known |= set(play.role_defaults) | set(play.role_vars) | set(earlier)
    for h in hosts:
        known |= set(h.vars)
    defined, _ = defined_names(play, base_dir)
    known |= defined
    for b in _blocks(play.tasks):
        if b.loop is not None:
            known.add(b.loop_var)
            if b.index_var:
                known.add(b.index_var)
    notified = {n for t in [*play.all_tasks(), *play.handlers] for n in t.notify}
    handlers = [h for h in play.handlers if h.name in notified or set(h.listen) & notified]
    tasks = [*play.all_tasks(), *handlers]
    for t in tasks:
        known |= set(t.vars) | set(t.defaults)
        known.add(t.loop_var)
        if t.index_var:
            known.add(t.index_var)
    cut = unknowable_from(play, base_dir)
    if cut is not None:  # names after an unknowable include_vars are checked when they run
        tasks = [t for t in play.all_tasks() if t.seq <= cut]
    for t in tasks:
        try:
            _check_task(t, known)
        except UserError as err:
            if collect is None:
                raise
            collect.append(err)


def _check_task(t: Task, known: set[str]) -> None:
    """The names one task reads (of a task with a ``when``, only the condition's)."""
    fields: list[tuple[str, Any, bool]] = [(k, v, False) for k, v in t.templates().items()]
    fields += [(k, list(v), True) for k, v in t.expressions().items()]
    # ``x | default(..)`` or ``when: x is defined`` anywhere in the task makes x optional.
    optional = known | {n for _, v, e in fields for n in templating.guarded_names(v, expression=e)}
    # Variables are rendered lazily, when read: of ``vars`` only those the task reads count.
    read = {n for k, v, e in fields if k != "vars" for n in templating.referenced_names(v, expression=e)}
    fields = [(k, {n: x for n, x in v.items() if n in read} if k == "vars" and isinstance(v, Mapping) else v, e) for k, v, e in fields]
    if t.when:
        fields = [f for f in fields if f[0] == "when"]  # the rest is only read when it holds
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
    if base_dir is None or t.action.rsplit(".", 1)[-1] != "template" or not isinstance(t.args, Mapping):
        return set()
    src = t.args.get("src")
    if not isinstance(src, str):
        return set()
    if templating.is_template(src):
        return {"ansible_facts"}
    from kubeform.engine.task_inputs import local_candidates

    for c in local_candidates(src, [*t.search_dirs, base_dir]):
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
    defined: set[str] = set(play.vars) | set(play.vars_files) | set(extra_vars) | set(play.role_vars) | set(play.role_defaults)
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
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES and n not in t.vars and n not in t.defaults):
                return True
    for value in [*play.vars.values(), *play.vars_files.values(), *play.role_vars.values(), *play.role_defaults.values()]:
        for n in templating.referenced_names(value):
            if n == "ansible_facts" or (n.startswith("ansible_") and n not in defined and n not in MAGIC_NAMES):
                return True
    return False
