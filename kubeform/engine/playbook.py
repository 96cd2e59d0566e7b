"""Loading a playbook: YAML -> checked plays of tasks, every mistake located.

Everything that can be checked without a host is checked here, before any connection:
the playbook's shape (schemas/playbook.schema.json), that each task names exactly one
known module, that module arguments without templates match the module's schema, that
``notify`` names a handler and that templates parse. Keywords inherited from blocks
(``when``, ``tags``, ``become``, ``vars``...) are pushed down onto the tasks here so
the runner only ever sees flat, fully described tasks inside block structures.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from kubeform.engine import templating
from kubeform.engine.arg_coercion import coerce
from kubeform.engine.loop_forms import FORMS as LOOP_KEYS
from kubeform.engine.roles import find_role, load_role, role_dirs
from kubeform.engine.validation import check, load_schema
from kubeform.errors import UserError
from kubeform.modules.base import Module
from kubeform.yamlsrc import LineDict, LineList, load_file

ModuleResolver = Callable[[str], type[Module] | None]

LOOP_FORMS = tuple(k for k in LOOP_KEYS if k != "loop")
"""Ansible's ``with_*`` loops (loop_forms.py turns each into the list it iterates)."""

TASK_KEYWORDS = frozenset(
    {
        "name", "when", "loop", "with_items", "loop_control", "register", "notify", "listen",
        "tags", "become", "become_user", "become_method", "ignore_errors", "retries", "until",
        "delay", "changed_when", "failed_when", "vars", "no_log", "args", "block", "rescue",
        "always", "include_tasks", "import_tasks", "include_role", "import_role", "check_mode",
        "run_once", "remote_user", "environment", "delegate_to", "delegate_facts", "any_errors_fatal",
        "diff", "throttle", "timeout", "debugger", "collections", "module_defaults", *LOOP_FORMS,
    }
)  # fmt: skip

STRUCTURAL = ("block", "include_tasks", "import_tasks", "include_role", "import_role")
"""Task keys that hold tasks (or name where to find them) instead of a module call."""

UNSUPPORTED: dict[str, str] = {}
"""Keywords kubeform parses but cannot honour yet: refused, never silently ignored."""

_PACKAGE_FAMILIES = {"yum": "rpm", "dnf": "rpm", "apt": "deb"}
"""The package manager family a task's module name implies (``package:`` implies none)."""

FQCN_PREFIXES = ("ansible.builtin.", "ansible.legacy.")
"""Prefixes that name Ansible's own actions (``ansible.builtin.debug`` is ``debug``)."""

ENGINE_ACTIONS = frozenset({"debug", "set_fact", "assert", "fail", "meta", "include_vars", "group_by", "pause"})
"""Actions the engine runs itself (they read or write variables, not hosts)."""

_KV = re.compile(r"""^([A-Za-z_][A-Za-z0-9_]*)=(.*)$""", re.S)
_TOKEN = re.compile(
    r"""(?:\{\{.*?\}\}|\{%.*?%\}|"(?:\\.|[^"\\])*"|'[^']*'|[^\s"'{]|\{(?![{%]))+""", re.S
)


@dataclass(frozen=True)
class Where:
    """Where a task was written: for error messages and for the plan's headings."""

    file: str
    line: int
    path: str  # e.g. "tasks[4]" or "tasks[2].block[0]"

    def error(self, message: str, *, field: str | None = None, line: int | None = None, hint: str | None = None) -> UserError:
        """A UserError at this task (``field`` relative to the task)."""
        full = f"{self.path}.{field}" if field else self.path
        return UserError(message, file=self.file, line=line or self.line, field=full, hint=hint)


@dataclass(frozen=True)
class Task:
    """One module invocation with every keyword it inherited from plays and blocks."""

    name: str
    action: str  # module name as written (may be fully qualified)
    args: Any  # dict, or a template string giving one
    where: Where
    arg_lines: Mapping[str, int] = field(default_factory=dict)
    key_lines: Mapping[str, int] = field(default_factory=dict)  # line of each keyword
    named: bool = False  # the user gave a name (otherwise derived from the action)
    when: tuple[Any, ...] = ()
    loop: Any = None
    loop_form: str = "loop"  # or with_items, with_dict ... (loop_forms.py)
    loop_var: str = "item"
    index_var: str | None = None
    loop_label: str | None = None
    register: str | None = None
    notify: tuple[str, ...] = ()
    listen: tuple[str, ...] = ()
    tags: frozenset[str] = frozenset()
    become: Any = None
    become_user: str | None = None
    ignore_errors: Any = False
    retries: Any = None
    until: tuple[Any, ...] = ()
    delay: Any = 5
    changed_when: tuple[Any, ...] | None = None
    failed_when: tuple[Any, ...] | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    no_log: Any = False
    seq: int = 0  # position in the play's flattened task order (for fact prefetching)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # its role's defaults (lowest precedence)
    search_dirs: tuple[str, ...] = ()  # where relative local files are looked for, first to last
    role: str | None = None  # the role the task belongs to
    check_mode: Any = None  # True: never change (even in apply); False: change even in a plan
    run_once: Any = False
    environment: tuple[Any, ...] = ()  # mappings (or templates of one), outer first: the commands' environment
    delegate_to: Any = None  # another host (a template) whose connection runs the module

    def templates(self) -> dict[str, Any]:
        """Every templated input of the task, by keyword (for name and dependency checks)."""
        out: dict[str, Any] = {"args": self.args, "name": self.name if self.named else ""}
        if self.loop is not None:
            out["loop"] = self.loop
        out["vars"] = dict(self.vars)
        for key in ("become", "ignore_errors", "no_log", "retries", "delay", "check_mode", "run_once"):
            out[key] = getattr(self, key)
        if self.environment:
            out["environment"] = list(self.environment)
        if self.delegate_to is not None:
            out["delegate_to"] = self.delegate_to
        return out

    def expressions(self) -> dict[str, tuple[Any, ...]]:
        """Bare-expression keywords (``when`` and friends, and ``assert``'s ``that``)."""
        that: tuple[Any, ...] = ()
        if self.action in ("assert", "ansible.builtin.assert") and isinstance(self.args, Mapping):
            that = _as_tuple(self.args.get("that"))
        return {
            "that": that,
            "when": self.when,
            "until": self.until,
            "changed_when": self.changed_when or (),
            "failed_when": self.failed_when or (),
        }


@dataclass(frozen=True)
class Block:
    """``block`` / ``rescue`` / ``always``: the children carry the block's inherited keywords."""

    name: str
    where: Where
    block: tuple[Node, ...]
    rescue: tuple[Node, ...] = ()
    always: tuple[Node, ...] = ()
    loop: Any = None  # include_tasks/include_role with a loop: the block runs once per item
    loop_form: str = "loop"
    loop_var: str = "item"
    index_var: str | None = None
    # A templated include_tasks: the file its rendered name picks, per loop item, among the
    # files that could match (loaded beforehand; a file that failed to load holds its error).
    choice: str | None = None
    choices: tuple[tuple[str, tuple[Node, ...] | str], ...] = ()
    when: tuple[Any, ...] = ()  # a looped include's conditions: false ones skip it before its loop is read
    vars: Mapping[str, Any] = field(default_factory=dict)  # the include's own scope (for ``choice``)
    defaults: Mapping[str, Any] = field(default_factory=dict)


Node = Task | Block


@dataclass(frozen=True)
class Play:
    """Hosts, variables and the tasks to run on them."""

    name: str
    hosts: str
    where: Where
    vars: Mapping[str, Any]
    vars_files: Mapping[str, Any]
    tasks: tuple[Node, ...]
    handlers: tuple[Task, ...]
    become: Any = None
    become_user: str | None = None
    gather_facts: Any = True
    role_defaults: Mapping[str, Any] = field(default_factory=dict)  # every role's defaults
    role_vars: Mapping[str, Any] = field(default_factory=dict)  # every role's vars
    serial: Any = None
    any_errors_fatal: Any = False
    remote_user: str | None = None
    flush_points: tuple[int, ...] = ()  # indexes of ``tasks`` before which notified handlers run

    def all_tasks(self) -> list[Task]:
        """Every task (not handlers) in order, blocks flattened."""
        return list(_walk(self.tasks))


@dataclass(frozen=True)
class Playbook:
    path: str
    base_dir: str
    plays: tuple[Play, ...]


_TASK_LISTS = frozenset({"tasks", "pre_tasks", "post_tasks", "handlers"})


def _inside_tasks(path: list[Any]) -> bool:
    """Play-level schema errors inside task lists are left to the per-task check."""
    return len(path) >= 3 and path[1] in _TASK_LISTS


@cache
def _task_schema() -> dict[str, Any]:
    defs = load_schema("playbook.schema.json")["$defs"]
    return {**defs["task"], "$defs": defs}


def _strings_in(value: Any) -> list[str]:
    """Every string inside a loop's value (file names of ``with_first_found`` terms)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _strings_in(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings_in(v)]
    return []


def _walk(nodes: tuple[Node, ...]) -> list[Task]:
    out: list[Task] = []
    for n in nodes:
        if isinstance(n, Task):
            out.append(n)
        else:
            out.extend(_walk(n.block))
            out.extend(_walk(n.rescue))
            out.extend(_walk(n.always))
    return out


@dataclass(frozen=True)
class _Inherit:
    """Keywords a block or play passes down to its tasks."""

    when: tuple[Any, ...] = ()
    tags: frozenset[str] = frozenset()
    become: Any = None
    become_user: str | None = None
    vars: Mapping[str, Any] = field(default_factory=dict)
    ignore_errors: Any = None
    no_log: Any = None
    check_mode: Any = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    search_dirs: tuple[str, ...] = ()
    role: str | None = None
    environment: tuple[Any, ...] = ()  # outer first; a later mapping's names win
    delegate_to: Any = None
    module_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # short module name -> arguments


def _module_defaults(outer: Mapping[str, Mapping[str, Any]], raw: Any, where: Where, line: int | None) -> dict[str, Mapping[str, Any]]:
    """``module_defaults`` merged into the outer ones (by module, then by argument; inner wins).

    Keys may be fully qualified (``ansible.builtin.copy``); ``group/...`` keys (action
    groups of collections) name no module kubeform has and are ignored.
    """
    out: dict[str, Mapping[str, Any]] = {k: dict(v) for k, v in outer.items()}
    if raw in (None, {}, ""):
        return out
    if not isinstance(raw, Mapping):
        raise where.error("module_defaults must be a mapping of module names to arguments", field="module_defaults", line=line)
    for key, args in raw.items():
        if str(key).startswith("group/"):
            continue
        if not isinstance(args, Mapping):
            raise where.error(f"module_defaults.{key} must be a mapping of arguments", field="module_defaults", line=line)
        short = str(key).rsplit(".", 1)[-1]
        out[short] = {**out.get(short, {}), **dict(args)}
    return out


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


def _names(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in _as_tuple(value))


def parse_kv(text: str, *, free_form: bool, known: set[str], where: Where, action: str) -> dict[str, Any]:
    """``key=value`` argument strings; free-form modules keep the rest as ``_raw_params``.

    The rest is the original text with only the recognised ``key=value`` tokens cut out,
    so a multi-line ``shell: |`` script keeps its newlines (as Ansible keeps them).
    """
    args: dict[str, Any] = {}
    kept: list[str] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        tok = match.group(0)
        m = _KV.match(tok)
        if m and (not free_form or m.group(1) in known):
            value = m.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            args[m.group(1)] = value
            kept.append(text[pos : match.start()])
            pos = match.end()
        elif not free_form:
            raise where.error(f"expected key=value arguments, found {tok!r}", field=action)
    kept.append(text[pos:])
    if free_form:
        rest = "".join(kept).strip()
        if rest:
            args["_raw_params"] = rest
    return args


class _Loader:
    """Turns the YAML of one playbook (and the files it includes) into Plays."""

    def __init__(self, path: Path, resolver: ModuleResolver, collect: list[UserError] | None = None) -> None:
        self.collect = collect  # --check-all: mistakes are gathered here and the node skipped
        self.path = path
        self.base_dir = path.parent
        self.resolver = resolver
        self.seq = 0
        self.role_defaults: dict[str, Any] = {}
        self.role_vars: dict[str, Any] = {}
        self.role_handlers: list[Node] = []
        self.roles_seen: set[tuple[str, str]] = set()

    # -- plays ---------------------------------------------------------------------

    def load(self) -> Playbook:
        plays = self._playbook_file(self.path, 0)
        return Playbook(path=str(self.path), base_dir=str(self.base_dir), plays=tuple(plays))

    def _playbook_file(self, path: Path, depth: int) -> list[Play]:
        """The plays of one playbook file, ``import_playbook`` entries expanded in place."""
        file = str(path)
        doc = load_file(path)
        if doc is None:
            raise UserError("the playbook is empty (expected a list of plays)", file=file)
        if isinstance(doc, LineDict):
            raise UserError("a playbook is a list of plays (start each play with '- hosts: ...')", file=file, line=doc.line)
        check(load_schema("playbook.schema.json"), doc, file=file, root=doc, field_prefix=["plays"], skip=_inside_tasks)
        plays: list[Play] = []
        for i, raw in enumerate(doc):
            key = next((k for k in ("import_playbook", "ansible.builtin.import_playbook") if k in raw), None)
            if key is None:
                try:
                    plays.append(self._play(raw, i, file, len(doc), path.parent))
                except UserError as err:
                    if self.collect is None:
                        raise
                    self._collected(err)
                continue
            target = raw[key]
            if templating.is_template(target):
                raise UserError("templated import_playbook paths are not supported", file=file, line=raw.line_of(key), field=f"plays[{i}].{key}")
            if depth > 20:
                raise UserError("import_playbook nested more than 20 levels (a loop?)", file=file, line=raw.line_of(key), field=f"plays[{i}].{key}")
            inc = self._resolve(str(target), path.parent)
            if not inc.is_file():
                raise UserError(f"no such playbook: {target}", file=file, line=raw.line_of(key), field=f"plays[{i}].{key}")
            imported = self._playbook_file(inc, depth + 1)
            if raw.get("when") is not None:
                imported = [replace(p, tasks=tuple(_with_when(p.tasks, _as_tuple(raw["when"])))) for p in imported]
            plays.extend(imported)
        return plays

    def _play(self, raw: LineDict, index: int, file: str, count: int, here: Path) -> Play:
        prefix = f"plays[{index}]." if count > 1 else ""
        where = Where(file, raw.line, prefix.rstrip(".") or f"plays[{index}]")
        if "hosts" not in raw:
            raise where.error("a play needs 'hosts' (the pattern of the hosts it runs on)")
        _refuse_unsupported(raw, where)
        hosts = raw["hosts"]
        if isinstance(hosts, list):
            hosts = ":".join(str(h) for h in hosts)
        vars_files: dict[str, Any] = {}
        files: Any = raw.get("vars_files") or LineList()
        for j, vf in enumerate(files):
            vf_path = self._resolve(str(vf), here)
            if templating.is_template(vf):
                raise UserError(
                    "templated vars_files paths are not supported", file=file, line=files.line_of(j), field=f"{prefix}vars_files[{j}]"
                )
            data = load_file(vf_path) if os.path.exists(vf_path) else None  # os.path: False, not OSError, for a name too long
            if not os.path.exists(vf_path):
                raise UserError(f"no such file: {vf}", file=file, line=files.line_of(j), field=f"{prefix}vars_files[{j}]")
            if data is None:
                continue
            if not isinstance(data, Mapping):
                raise UserError("a vars file must be a mapping of variables", file=str(vf_path), line=getattr(data, "line", None))
            vars_files.update(data)
        inherit = _Inherit(
            when=_as_tuple(raw.get("when")),
            tags=frozenset(_names(raw.get("tags"))),
            ignore_errors=raw.get("ignore_errors"),
            no_log=raw.get("no_log"),
            check_mode=raw.get("check_mode"),
            search_dirs=(str(here),) if here != self.base_dir else (),
            environment=_as_tuple(raw.get("environment")),
            module_defaults=_module_defaults({}, raw.get("module_defaults"), where, raw.line_of("module_defaults")),
        )
        self.seq = 0
        self.role_defaults, self.role_vars, self.role_handlers, self.roles_seen = {}, {}, [], set()
        tasks: list[Node] = []
        tasks.extend(self._tasks(raw.get("pre_tasks"), f"{prefix}pre_tasks", file, inherit, here))
        after_pre = len(tasks)
        roles: Any = raw.get("roles") or LineList()
        for j, entry in enumerate(roles):
            tasks.append(self._role_entry(entry, f"{prefix}roles[{j}]", Where(file, roles.line_of(j), f"{prefix}roles[{j}]"), inherit, here, 0, "roles"))
        tasks.extend(self._tasks(raw.get("tasks"), f"{prefix}tasks", file, inherit, here))
        after_main = len(tasks)
        tasks.extend(self._tasks(raw.get("post_tasks"), f"{prefix}post_tasks", file, inherit, here))
        # Ansible runs notified handlers after pre_tasks, after roles + tasks, and at the end.
        flush_points = tuple(sorted({p for p in (after_pre, after_main) if 0 < p < len(tasks)}))
        handlers: list[Task] = []
        for node in [*self._tasks(raw.get("handlers"), f"{prefix}handlers", file, inherit, here), *self.role_handlers]:
            for h in [node] if isinstance(node, Task) else _walk((node,)):
                handlers.append(h)
        play = Play(
            name=str(raw.get("name") or hosts),
            hosts=str(hosts),
            where=where,
            vars=dict(raw.get("vars") or {}),
            vars_files=vars_files,
            tasks=tuple(tasks),
            handlers=tuple(handlers),
            become=raw.get("become"),
            become_user=raw.get("become_user"),
            gather_facts=raw.get("gather_facts", True),
            role_defaults=dict(self.role_defaults),
            role_vars=dict(self.role_vars),
            serial=raw.get("serial"),
            any_errors_fatal=raw.get("any_errors_fatal", False),
            remote_user=raw.get("remote_user"),
            flush_points=flush_points,
        )
        try:
            self._check_notify(play)
        except UserError as err:
            if self.collect is None:
                raise
            self._collected(err)
        return play

    # -- roles ---------------------------------------------------------------------

    def _role_entry(self, entry: Any, path: str, where: Where, inherit: _Inherit, here: Path, depth: int, kind: str) -> Block:
        """One role of ``roles:`` (or a meta dependency): its dependencies, then its tasks."""
        if isinstance(entry, str):
            spec: Mapping[str, Any] = {"role": entry}
        elif isinstance(entry, Mapping):
            spec = entry
        else:
            raise where.error("a role is a name or a mapping with 'role'")
        name = spec.get("role", spec.get("name"))
        if not isinstance(name, str) or not name:
            raise where.error("a role needs a name ('role: <name>')")
        keywords = {"role", "name", "vars", "tags", "when", "become", "become_user", "ignore_errors", "no_log", "check_mode",
                    "tasks_from", "vars_from", "defaults_from", "handlers_from", "allow_duplicates", "environment",
                    "delegate_to", "run_once", "any_errors_fatal", "collections", "public", "apply"}  # fmt: skip
        params = {k: v for k, v in spec.items() if k not in keywords}
        params.update(spec.get("vars") or {})
        child = _Inherit(
            when=inherit.when + _as_tuple(spec.get("when")),
            tags=inherit.tags | frozenset(_names(spec.get("tags"))),
            become=spec.get("become", inherit.become),
            become_user=spec.get("become_user", inherit.become_user),
            vars=inherit.vars,
            ignore_errors=spec.get("ignore_errors", inherit.ignore_errors),
            no_log=spec.get("no_log", inherit.no_log),
            check_mode=spec.get("check_mode", inherit.check_mode),
            search_dirs=inherit.search_dirs,
            role=inherit.role,
            environment=inherit.environment + _as_tuple(spec.get("environment")),
            delegate_to=spec.get("delegate_to", inherit.delegate_to),
            module_defaults=_module_defaults(inherit.module_defaults, spec.get("module_defaults"), where, None),
        )
        return self._role(
            name, where, child, here, depth, kind, params=params,
            tasks_from=spec.get("tasks_from"), vars_from=spec.get("vars_from"),
            defaults_from=spec.get("defaults_from"), handlers_from=spec.get("handlers_from"),
            allow_duplicates=spec.get("allow_duplicates"),
        )  # fmt: skip

    def _role(
        self, name: str, where: Where, inherit: _Inherit, here: Path, depth: int, kind: str, *,
        params: Mapping[str, Any], tasks_from: Any = None, vars_from: Any = None, defaults_from: Any = None,
        handlers_from: Any = None, allow_duplicates: Any = None,
    ) -> Block:  # fmt: skip
        if templating.is_template(name):
            raise where.error(f"templated role names are not supported ({kind})", field=kind)
        if depth > 20:
            raise where.error("roles nested more than 20 levels (a dependency loop?)", field=kind)
        role_dir = find_role(name, self.base_dir, here)
        if role_dir is None:
            looked = ", ".join(str(d) for d in role_dirs(self.base_dir, here))
            raise where.error(f"role '{name}' not found (looked in {looked})", field=kind)
        role = load_role(name, role_dir, vars_from=_opt(vars_from), defaults_from=_opt(defaults_from))
        key = (str(role_dir), repr(sorted((str(k), repr(v)) for k, v in params.items())) + repr(tasks_from))
        if kind in ("roles", "dependency") and key in self.roles_seen and not _is_true(allow_duplicates):
            return Block(name=f"role {name} (already run)", where=where, block=())
        self.roles_seen.add(key)
        for k, v in role.defaults.items():
            self.role_defaults.setdefault(k, v)
        self.role_vars.update(role.vars)
        own = _Inherit(
            when=inherit.when, tags=inherit.tags, become=inherit.become, become_user=inherit.become_user,
            vars={**inherit.vars, **role.vars, **params, "role_name": name, "ansible_role_name": name, "role_path": str(role_dir)},
            ignore_errors=inherit.ignore_errors,
            no_log=inherit.no_log, check_mode=inherit.check_mode, defaults=dict(role.defaults),
            search_dirs=(str(role_dir),), role=name, environment=inherit.environment, delegate_to=inherit.delegate_to,
            module_defaults=inherit.module_defaults,
        )  # fmt: skip
        nodes: list[Node] = []
        deps = role.dependencies_list if role.dependencies_list is not None else LineList(role.dependencies)
        for j, dep in enumerate(deps):
            dep_where = Where(role.dependencies_file, deps.line_of(j), f"dependencies[{j}]")
            dep_inherit = replace(inherit, vars=inherit.vars)
            nodes.append(self._role_entry(dep, f"dependencies[{j}]", dep_where, dep_inherit, role_dir, depth + 1, "dependency"))
        tasks_file = role.tasks_file(_opt(tasks_from))
        if tasks_from is not None and tasks_file is None:
            raise where.error(f"role '{name}' has no tasks file '{tasks_from}'", field="tasks_from")
        if tasks_file is not None:
            doc = load_file(tasks_file)
            nodes.extend(self._tasks(doc if doc is not None else LineList(), "tasks", str(tasks_file), own, tasks_file.parent, depth + 1))
        handlers_file = role.handlers_file(_opt(handlers_from))
        if handlers_file is not None and (str(handlers_file), "handlers") not in self.roles_seen:
            self.roles_seen.add((str(handlers_file), "handlers"))
            doc = load_file(handlers_file)
            self.role_handlers.extend(self._tasks(doc if doc is not None else LineList(), "handlers", str(handlers_file), own, handlers_file.parent, depth + 1))
        return Block(name=f"role {name}", where=where, block=tuple(nodes))

    def _check_notify(self, play: Play) -> None:
        known: set[str] = set()
        for h in play.handlers:
            known.add(h.name)
            known.update(h.listen)
        for task in [*play.all_tasks(), *play.handlers]:
            for n in task.notify:
                if n not in known and not templating.is_template(n):
                    close = difflib.get_close_matches(n, sorted(known), n=1)
                    raise task.where.error(
                        f"no handler named or listening to '{n}'",
                        field="notify",
                        hint=f"did you mean '{close[0]}'?" if close else None,
                    )

    def _resolve(self, rel: str, relative_to: Path | None = None) -> Path:
        p = Path(rel)
        if p.is_absolute():
            return p
        for base in (relative_to, self.base_dir):
            if base is not None and os.path.exists(base / p):
                return base / p
        return (relative_to or self.base_dir) / p

    # -- tasks ---------------------------------------------------------------------

    def _tasks(self, raw: Any, path: str, file: str, inherit: _Inherit, here: Path, depth: int = 0) -> list[Node]:
        if raw is None:
            return []
        if not isinstance(raw, LineList):
            raise UserError("must be a list of tasks", file=file, line=getattr(raw, "line", None), field=path)
        out: list[Node] = []
        for i, t in enumerate(raw):
            tpath = f"{path}[{i}]"
            if not isinstance(t, LineDict):
                raise UserError("a task must be a mapping", file=file, line=raw.line_of(i), field=tpath)
            try:
                out.append(self._node(t, tpath, file, inherit, here, depth))
            except UserError as err:
                if self.collect is None:
                    raise
                self._collected(err)
        return out

    def _collected(self, err: UserError) -> None:
        if str(err) not in {str(e) for e in self.collect or []}:
            (self.collect if self.collect is not None else []).append(err)

    def _node(self, t: LineDict, path: str, file: str, inherit: _Inherit, here: Path, depth: int) -> Node:
        where = Where(file, t.line, path)
        t = _short_names(_local_action(t, where))
        check(_task_schema(), t, file=file, root=t, field_prefix=[path])
        child = _Inherit(
            when=inherit.when + _as_tuple(t.get("when")),
            tags=inherit.tags | frozenset(_names(t.get("tags"))),
            become=t.get("become", inherit.become),
            become_user=t.get("become_user", inherit.become_user),
            vars={**inherit.vars, **(t.get("vars") or {})},
            ignore_errors=t.get("ignore_errors", inherit.ignore_errors),
            no_log=t.get("no_log", inherit.no_log),
            check_mode=t.get("check_mode", inherit.check_mode),
            defaults=inherit.defaults,
            search_dirs=inherit.search_dirs,
            role=inherit.role,
            environment=inherit.environment + _as_tuple(t.get("environment")),
            delegate_to=t.get("delegate_to", inherit.delegate_to),
            module_defaults=_module_defaults(inherit.module_defaults, t.get("module_defaults"), where, t.line_of("module_defaults")),
        )
        _refuse_unsupported(t, where)
        structural = [k for k in STRUCTURAL if k in t]
        modules = [k for k in t if k not in TASK_KEYWORDS]
        if structural:
            if len(structural) > 1 or modules:
                extra = (structural[1:] + modules)[0]
                raise where.error(f"'{structural[0]}' cannot be combined with '{extra}'", field=str(extra), line=t.line_of(extra))
            kind = structural[0]
            if kind == "block":
                return Block(
                    name=str(t.get("name") or "block"),
                    where=where,
                    block=tuple(self._tasks(t.get("block"), f"{path}.block", file, child, here, depth)),
                    rescue=tuple(self._tasks(t.get("rescue"), f"{path}.rescue", file, child, here, depth)),
                    always=tuple(self._tasks(t.get("always"), f"{path}.always", file, child, here, depth)),
                )
            if kind in ("include_role", "import_role"):
                spec = t[kind]
                block = self._role(
                    str(spec.get("name")), where, child, here, depth + 1, kind, params={},
                    tasks_from=spec.get("tasks_from"), vars_from=spec.get("vars_from"),
                    defaults_from=spec.get("defaults_from"), handlers_from=spec.get("handlers_from"),
                    allow_duplicates=spec.get("allow_duplicates"),
                )  # fmt: skip
                return self._looped(block, t, where, child)
            return self._looped(self._include(t, kind, where, child, here, depth), t, where, child)
        for k in ("rescue", "always"):
            if k in t:
                raise where.error(f"'{k}' needs a 'block'", field=k, line=t.line_of(k))
        if not modules:
            raise where.error("no module given (a task needs one, e.g. 'command: ...' or 'copy: {...}')")
        if len(modules) > 1:
            known = [m for m in modules if self.resolver(m) is not None or m in ENGINE_ACTIONS]
            unknown = [m for m in modules if m not in known]
            if len(known) > 1:
                raise where.error(f"more than one module in a task ('{known[0]}' and '{known[1]}')", field=str(known[1]), line=t.line_of(known[1]))
            bad = unknown[0]
            if known:
                raise where.error(f"unknown keyword '{bad}'", field=str(bad), line=t.line_of(bad), hint=self._hint(bad, modules=False))
            raise where.error(f"unknown module '{bad}'", field=str(bad), line=t.line_of(bad), hint=self._hint(bad, modules=True))
        action = str(modules[0])
        return self._task(t, action, where, child)

    def _looped(self, block: Block, t: LineDict, where: Where, inherit: _Inherit) -> Block:
        """An include with ``loop`` (or ``with_*``): the block runs once per item."""
        found = loop_of(t, where)
        if found is None:
            return block
        lc = t.get("loop_control") or {}
        return replace(
            block, loop=found[0], loop_form=found[1], loop_var=str(lc.get("loop_var") or "item"), index_var=lc.get("index_var"),
            when=inherit.when, vars=inherit.vars, defaults=inherit.defaults,
        )  # fmt: skip

    def _hint(self, name: str, *, modules: bool) -> str | None:
        """A close name of the same kind: a module for a module, a keyword for a keyword."""
        from kubeform.modules import registry

        if modules:
            try:
                names = sorted(set(registry()) | ENGINE_ACTIONS)
            except Exception:  # a broken module must not hide the user's own mistake
                names = sorted(ENGINE_ACTIONS)
            short = name
            for prefix in (*FQCN_PREFIXES, "ansible.posix.", "community.general."):
                short = short.removeprefix(prefix)
            close = difflib.get_close_matches(short, names, n=1, cutoff=0.75)
        else:
            close = difflib.get_close_matches(name, sorted(TASK_KEYWORDS), n=1, cutoff=0.7)
        return f"did you mean '{close[0]}'?" if close else None

    def _include(self, t: LineDict, kind: str, where: Where, inherit: _Inherit, here: Path, depth: int) -> Block:
        target = t[kind]
        if isinstance(target, Mapping):
            target = target.get("file")
        if templating.is_template(target):
            return self._dynamic_include(t, kind, str(target), where, inherit, here, depth)
        if depth > 20:
            raise where.error(f"{kind} nested more than 20 levels (a loop?)", field=kind)
        inc = self._resolve(str(target), here)
        if not os.path.exists(inc):
            raise where.error(f"no such file: {target}", field=kind, line=t.line_of(kind))
        doc = load_file(inc)
        nodes = self._tasks(doc if doc is not None else LineList(), "tasks", str(inc), inherit, inc.parent, depth + 1)
        return Block(name=str(t.get("name") or f"{kind} {target}"), where=where, block=tuple(nodes))

    def _dynamic_include(self, t: LineDict, kind: str, target: str, where: Where, inherit: _Inherit, here: Path, depth: int) -> Block:
        """``include_tasks: "{{ item }}"`` (often with ``with_first_found``) or a templated
        name: every file the name could render to is loaded now (templates read as ``*``
        in the name and in the loop's candidates); the run picks one per item."""
        patterns = [target]
        found = loop_of(t, where)
        if found is not None:
            patterns += [str(v) for v in _strings_in(found[0])]
        dirs = [here, *(Path(d) for d in inherit.search_dirs), *(Path(d) / "tasks" for d in inherit.search_dirs), self.base_dir]
        paths: list[Path] = []
        for pattern in patterns:
            glob_pat = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "*", pattern)
            if glob_pat.strip() in ("*", ""):
                continue
            for d in dirs:
                for hit in sorted(d.glob(glob_pat)) if not os.path.isabs(glob_pat) else sorted(Path("/").glob(glob_pat.lstrip("/"))):
                    if hit.is_file() and hit.suffix in (".yml", ".yaml") and hit.resolve() not in [p.resolve() for p in paths]:
                        paths.append(hit)
        choices: list[tuple[str, tuple[Node, ...] | str]] = []
        for inc in paths[:50]:
            try:
                doc = load_file(inc)
                nodes = self._tasks(doc if doc is not None else LineList(), "tasks", str(inc), inherit, inc.parent, depth + 1)
                choices.append((str(inc.resolve()), tuple(nodes)))
            except UserError as err:
                choices.append((str(inc.resolve()), str(err)))
        return Block(name=str(t.get("name") or f"{kind} {target}"), where=where, block=(), choice=target, choices=tuple(choices),
                     vars=inherit.vars, defaults=inherit.defaults)  # fmt: skip

    def _task(self, t: LineDict, action: str, where: Where, inherit: _Inherit) -> Task:
        raw_args = t[action]
        cls = self.resolver(action)
        if cls is None and action not in ENGINE_ACTIONS:
            raise where.error(f"unknown module '{action}'", field=action, line=t.line_of(action), hint=self._hint(action, modules=True))
        arg_lines: dict[str, int] = {}
        if isinstance(raw_args, LineDict):
            args: Any = dict(raw_args)
            arg_lines = {str(k): raw_args.line_of(k) for k in raw_args}
        elif raw_args is None:
            args = {}
        elif isinstance(raw_args, str) and not (templating.is_template(raw_args) and raw_args.strip().startswith("{{") and raw_args.strip().endswith("}}") and cls is not None and not cls.free_form):
            if action == "debug" and "=" not in raw_args:
                args = {"msg": raw_args}
            else:
                free = bool(cls.free_form) if cls is not None else action in ("meta", "include_vars")
                known = set((cls.schema.get("properties") or {}).keys()) if cls is not None else set()
                args = parse_kv(raw_args, free_form=free, known=known, where=where, action=action)
        elif isinstance(raw_args, str):
            args = raw_args  # "{{ some_dict }}": rendered at run time
        else:
            raise where.error("module arguments must be a mapping or a key=value string", field=action, line=t.line_of(action))
        defaults = inherit.module_defaults.get(action.rsplit(".", 1)[-1])
        if defaults and isinstance(args, dict):
            args = {**defaults, **args}  # the task's own arguments win
        if cls is not None and isinstance(args, dict):
            args = coerce(args, cls.schema)
        family = _PACKAGE_FAMILIES.get(action.rsplit(".", 1)[-1])
        if family is not None and isinstance(args, dict) and args.get("use", "auto") == "auto":
            args = {**args, "_family": family}  # yum/dnf never fall back to apt-get, nor apt to dnf
        extra = t.get("args")
        if extra:
            if not isinstance(args, dict):
                raise where.error("'args' cannot be combined with templated arguments", field="args")
            args = {**dict(extra), **args}
            if cls is not None:
                args = coerce(args, cls.schema)
            arg_lines.update({str(k): extra.line_of(k) for k in extra})
        name = t.get("name")
        found = loop_of(t, where)
        loop, loop_form = found if found is not None else (None, "loop")
        lc = t.get("loop_control") or {}
        task = Task(
            name=str(name) if name else _default_name(action, args),
            named=bool(name),
            action=action,
            args=args,
            where=where,
            arg_lines=arg_lines,
            key_lines={str(k): t.line_of(k) for k in t},
            when=inherit.when,
            loop=loop,
            loop_form=loop_form,
            loop_var=str(lc.get("loop_var") or "item"),
            index_var=lc.get("index_var"),
            loop_label=lc.get("label"),
            register=t.get("register"),
            notify=_names(t.get("notify")),
            listen=_names(t.get("listen")),
            tags=inherit.tags,
            become=inherit.become,
            become_user=inherit.become_user,
            ignore_errors=inherit.ignore_errors or False,
            retries=t.get("retries"),
            until=_as_tuple(t.get("until")),
            delay=t.get("delay", 5),
            changed_when=_as_tuple(t["changed_when"]) if "changed_when" in t else None,
            failed_when=_as_tuple(t["failed_when"]) if "failed_when" in t else None,
            vars=inherit.vars,
            no_log=inherit.no_log or False,
            seq=self.seq,
            defaults=inherit.defaults,
            search_dirs=inherit.search_dirs,
            role=inherit.role,
            check_mode=inherit.check_mode,
            run_once=t.get("run_once", False),
            environment=inherit.environment,
            delegate_to=inherit.delegate_to,
        )
        self.seq += 1
        for key in ("retries", "delay"):
            value = t.get(key)
            if isinstance(value, str) and not templating.is_template(value) and not _is_number(value, key == "retries"):
                kind = "an integer" if key == "retries" else "a number"
                raise where.error(f"must be {kind} (or a template), got {value!r}", field=key, line=t.line_of(key))
        self._check_templates(task, t)
        if cls is not None:
            self._check_args(task, cls, t)
        return task

    def _check_templates(self, task: Task, t: LineDict) -> None:
        for key, value in task.templates().items():
            try:
                templating.referenced_names(value)
            except UserError as err:
                raise task.where.error(err.message, field=task.action if key == "args" else key, line=t.line_of(task.action if key == "args" else key)) from None
        for key, exprs in task.expressions().items():
            try:
                templating.referenced_names(list(exprs), expression=True)
            except UserError as err:
                raise task.where.error(err.message, field=key, line=t.line_of(key)) from None

    def _check_args(self, task: Task, cls: type[Module], t: LineDict) -> None:
        if not isinstance(task.args, dict):
            return
        public = {k: v for k, v in task.args.items() if not str(k).startswith("_")}

        def templated(path: list[Any]) -> bool:
            # Values still holding templates are checked after rendering, on the host.
            node: Any = public
            for p in path:
                try:
                    node = node[p]
                except (KeyError, IndexError, TypeError):
                    return False
                if templating.is_template(node):
                    return True
            return bool(path) and templating.referenced_names(node) != frozenset()

        root = t[task.action] if isinstance(t[task.action], LineDict) else t
        check(
            cls.schema,
            public,
            file=task.where.file,
            root=root,
            field_prefix=[f"{task.where.path}.{task.action}"],
            skip=templated,
        )


def _default_name(action: str, args: Any) -> str:
    if isinstance(args, dict):
        main = args.get("_raw_params") or args.get("name") or args.get("dest") or args.get("path") or args.get("msg")
        if main is not None:
            text = str(main)
            return f"{action}: {text[:60]}{'…' if len(text) > 60 else ''}"
    return action


def load_playbook(path: str | Path, resolver: ModuleResolver | None = None, collect: list[UserError] | None = None) -> Playbook:
    """Load and check a playbook file; every mistake is one UserError with file:line: field.

    ``collect`` (``--check-all``): mistakes in tasks, plays and notify names are added to
    it and the faulty part left out, so one pass finds them all; the result then only
    serves further checks, never a run.
    """
    if resolver is None:
        from kubeform.modules import lookup

        resolver = lookup
    p = Path(path)
    if not os.path.exists(p):
        raise UserError("no such playbook file", file=str(path))
    return _Loader(p, resolver, collect).load()


def _is_number(text: str, integer: bool) -> bool:
    """Whether a keyword's string (``retries: "3"``) reads as the number it must be."""
    try:
        int(text) if integer else float(text)
    except ValueError:
        return False
    return True


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _is_true(value: Any) -> bool:
    return bool(templating.FILTERS["bool"](value)) if value is not None else False


def _local_action(t: LineDict, where: Where) -> LineDict:
    """``local_action: shell echo hi`` (or ``{module: shell, cmd: ...}``) as the module
    key plus ``delegate_to: localhost``, which is what Ansible makes of it."""
    if "local_action" not in t:
        return t
    if "delegate_to" in t:
        raise where.error("'local_action' already delegates: drop 'delegate_to'", field="delegate_to", line=t.line_of("delegate_to"))
    value = t["local_action"]
    line = t.line_of("local_action")
    if isinstance(value, str):
        module, _, rest = value.strip().partition(" ")
        args: Any = rest.strip() or None
    elif isinstance(value, LineDict) and isinstance(value.get("module"), str):
        module = str(value["module"])
        args = LineDict({k: v for k, v in value.items() if k != "module"})
        args.line = value.line
        args.key_lines = {k: n for k, n in value.key_lines.items() if k != "module"}
    else:
        raise where.error("local_action needs a module: 'local_action: <module> <args>' or a mapping with 'module'", field="local_action", line=line)
    if not module:
        raise where.error("local_action names no module", field="local_action", line=line)
    out = LineDict({k: v for k, v in t.items() if k != "local_action"})
    out[module] = args
    out["delegate_to"] = "localhost"
    out.line = t.line
    out.key_lines = {**{k: n for k, n in t.key_lines.items() if k != "local_action"}, module: line, "delegate_to": line}
    return out


def _connection(t: LineDict) -> LineDict:
    """``connection: local`` is ``delegate_to: localhost``; other connections (``ssh``,
    ``smart``, ``paramiko``) are the one kubeform uses anyway."""
    value = t.get("connection")
    out = LineDict({k: v for k, v in t.items() if k != "connection"})
    out.line = t.line
    out.key_lines = {k: n for k, n in t.key_lines.items() if k != "connection"}
    if value == "local" and "delegate_to" not in t:
        out["delegate_to"] = "localhost"
        out.key_lines["delegate_to"] = t.line_of("connection")
    return out


def _short_names(t: LineDict) -> LineDict:
    """The task with ``ansible.builtin.``/``ansible.legacy.`` cut from engine actions and includes."""
    renamed: dict[Any, Any] = {}
    if "connection" in t:
        t = _connection(t)
    for k in t:
        if k in ("include", "ansible.builtin.include") and "include_tasks" not in t:
            renamed[k] = "include_tasks"  # removed from ansible-core 2.16; its tasks form kept
        elif isinstance(k, str) and k.startswith(FQCN_PREFIXES):
            short = k.split(".", 2)[2]
            if short in ENGINE_ACTIONS or short in STRUCTURAL or short in TASK_KEYWORDS:
                renamed[k] = short
    if not renamed:
        return t
    out = LineDict({renamed.get(k, k): v for k, v in t.items()})
    out.line = t.line
    out.key_lines = {renamed.get(k, k): line for k, line in t.key_lines.items()}
    return out


def _with_when(nodes: tuple[Node, ...], when: tuple[Any, ...]) -> list[Node]:
    """Nodes with conditions added (an ``import_playbook`` with ``when``)."""
    out: list[Node] = []
    for n in nodes:
        if isinstance(n, Task):
            out.append(replace(n, when=when + n.when))
        else:
            out.append(replace(n, block=tuple(_with_when(n.block, when)), rescue=tuple(_with_when(n.rescue, when)),
                               always=tuple(_with_when(n.always, when))))  # fmt: skip
    return out


def loop_of(t: Mapping[str, Any], where: Where) -> tuple[Any, str] | None:
    """The task's loop value and its form (``loop`` or a ``with_*``), or None."""
    forms = [k for k in LOOP_KEYS if k in t]
    if not forms:
        return None
    if len(forms) > 1:
        raise where.error(f"use one of '{forms[0]}' and '{forms[1]}'", field=forms[1])
    return t[forms[0]], forms[0]


def _refuse_unsupported(t: LineDict, where: Where) -> None:
    for key, why in UNSUPPORTED.items():
        value = t.get(key)
        if value in (None, {}, ""):
            continue
        raise where.error(f"'{key}' is not supported yet ({why}; see docs/playbooks.md)", field=key, line=t.line_of(key))
