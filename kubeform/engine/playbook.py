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
from kubeform.engine.validation import check, load_schema
from kubeform.errors import UserError
from kubeform.modules.base import Module
from kubeform.yamlsrc import LineDict, LineList, field_path, load_file

ModuleResolver = Callable[[str], type[Module] | None]

TASK_KEYWORDS = frozenset(
    {
        "name", "when", "loop", "with_items", "loop_control", "register", "notify", "listen",
        "tags", "become", "become_user", "become_method", "ignore_errors", "retries", "until",
        "delay", "changed_when", "failed_when", "vars", "no_log", "args", "block", "rescue",
        "always", "include_tasks", "import_tasks",
    }
)  # fmt: skip

ENGINE_ACTIONS = frozenset({"debug", "set_fact", "assert", "fail", "meta"})
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

    def templates(self) -> dict[str, Any]:
        """Every templated input of the task, by keyword (for name and dependency checks)."""
        out: dict[str, Any] = {"args": self.args, "name": self.name if self.named else ""}
        if self.loop is not None:
            out["loop"] = self.loop
        out["vars"] = dict(self.vars)
        for key in ("become", "ignore_errors", "no_log", "retries", "delay"):
            out[key] = getattr(self, key)
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

    def __init__(self, path: Path, resolver: ModuleResolver) -> None:
        self.path = path
        self.base_dir = path.parent
        self.resolver = resolver
        self.seq = 0
        self.task_schema_cache: dict[str, Any] = {}

    # -- plays ---------------------------------------------------------------------

    def load(self) -> Playbook:
        file = str(self.path)
        doc = load_file(self.path)
        if doc is None:
            raise UserError("the playbook is empty (expected a list of plays)", file=file)
        if isinstance(doc, LineDict):
            raise UserError("a playbook is a list of plays (start each play with '- hosts: ...')", file=file, line=doc.line)
        check(load_schema("playbook.schema.json"), doc, file=file, root=doc, field_prefix=["plays"], skip=_inside_tasks)
        plays = []
        for i, raw in enumerate(doc):
            plays.append(self._play(raw, i, file, len(doc)))
        return Playbook(path=file, base_dir=str(self.base_dir), plays=tuple(plays))

    def _play(self, raw: LineDict, index: int, file: str, count: int) -> Play:
        prefix = f"plays[{index}]." if count > 1 else ""
        where = Where(file, raw.line, prefix.rstrip(".") or f"plays[{index}]")
        hosts = raw["hosts"]
        if isinstance(hosts, list):
            hosts = ":".join(str(h) for h in hosts)
        vars_files: dict[str, Any] = {}
        files: Any = raw.get("vars_files") or LineList()
        for j, vf in enumerate(files):
            vf_path = self._resolve(str(vf))
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
            tags=frozenset(_names(raw.get("tags"))),
            ignore_errors=raw.get("ignore_errors"),
            no_log=raw.get("no_log"),
        )
        self.seq = 0
        tasks: list[Node] = []
        for key in ("pre_tasks", "tasks", "post_tasks"):
            tasks.extend(self._tasks(raw.get(key), f"{prefix}{key}", file, inherit, self.base_dir))
        handlers: list[Task] = []
        for node in self._tasks(raw.get("handlers"), f"{prefix}handlers", file, inherit, self.base_dir):
            if not isinstance(node, Task):
                raise node.where.error("blocks are not supported as handlers")
            handlers.append(node)
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
        )
        self._check_notify(play)
        return play

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
            out.append(self._node(t, tpath, file, inherit, here, depth))
        return out

    def _node(self, t: LineDict, path: str, file: str, inherit: _Inherit, here: Path, depth: int) -> Node:
        where = Where(file, t.line, path)
        check(_task_schema(), t, file=file, root=t, field_prefix=[path])
        child = _Inherit(
            when=inherit.when + _as_tuple(t.get("when")),
            tags=inherit.tags | frozenset(_names(t.get("tags"))),
            become=t.get("become", inherit.become),
            become_user=t.get("become_user", inherit.become_user),
            vars={**inherit.vars, **(t.get("vars") or {})},
            ignore_errors=t.get("ignore_errors", inherit.ignore_errors),
            no_log=t.get("no_log", inherit.no_log),
        )
        structural = [k for k in ("block", "include_tasks", "import_tasks") if k in t]
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
            return self._include(t, kind, where, child, here, depth)
        for k in ("rescue", "always"):
            if k in t:
                raise where.error(f"'{k}' needs a 'block'", field=k, line=t.line_of(k))
        if not modules:
            raise where.error("no module given (a task needs one, e.g. 'command: ...' or 'copy: {...}')")
        if len(modules) > 1:
            unknown = [m for m in modules if self.resolver(m) is None and m not in ENGINE_ACTIONS]
            bad = unknown[0] if unknown else modules[1]
            hint = self._hint(bad)
            raise where.error(
                f"unknown keyword '{bad}'" if unknown else f"more than one module in a task ('{modules[0]}' and '{modules[1]}')",
                field=str(bad),
                line=t.line_of(bad),
                hint=hint,
            )
        action = str(modules[0])
        return self._task(t, action, where, child)

    def _hint(self, name: str) -> str | None:
        from kubeform.modules import registry

        try:
            names = sorted(set(registry()) | ENGINE_ACTIONS | TASK_KEYWORDS)
        except Exception:  # a broken module must not hide the user's own mistake
            names = sorted(ENGINE_ACTIONS | TASK_KEYWORDS)
        close = difflib.get_close_matches(name, names, n=1)
        return f"did you mean '{close[0]}'?" if close else None

    def _include(self, t: LineDict, kind: str, where: Where, inherit: _Inherit, here: Path, depth: int) -> Block:
        target = t[kind]
        if isinstance(target, Mapping):
            target = target.get("file")
        if templating.is_template(target):
            raise where.error(f"templated {kind} paths are not supported", field=kind, line=t.line_of(kind))
        if depth > 20:
            raise where.error(f"{kind} nested more than 20 levels (a loop?)", field=kind)
        inc = self._resolve(str(target), here)
        if not os.path.exists(inc):
            raise where.error(f"no such file: {target}", field=kind, line=t.line_of(kind))
        doc = load_file(inc)
        nodes = self._tasks(doc if doc is not None else LineList(), "tasks", str(inc), inherit, inc.parent, depth + 1)
        return Block(name=str(t.get("name") or f"{kind} {target}"), where=where, block=tuple(nodes))

    def _task(self, t: LineDict, action: str, where: Where, inherit: _Inherit) -> Task:
        raw_args = t[action]
        cls = self.resolver(action)
        if cls is None and action not in ENGINE_ACTIONS:
            raise where.error(f"unknown module '{action}'", field=action, line=t.line_of(action), hint=self._hint(action))
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
                free = bool(cls.free_form) if cls is not None else action == "meta"
                known = set((cls.schema.get("properties") or {}).keys()) if cls is not None else set()
                args = parse_kv(raw_args, free_form=free, known=known, where=where, action=action)
        elif isinstance(raw_args, str):
            args = raw_args  # "{{ some_dict }}": rendered at run time
        else:
            raise where.error("module arguments must be a mapping or a key=value string", field=action, line=t.line_of(action))
        extra = t.get("args")
        if extra:
            if not isinstance(args, dict):
                raise where.error("'args' cannot be combined with templated arguments", field="args")
            args = {**dict(extra), **args}
            arg_lines.update({str(k): extra.line_of(k) for k in extra})
        name = t.get("name")
        loop = t.get("loop", t.get("with_items"))
        if "with_items" in t and "loop" in t:
            raise where.error("use either 'loop' or 'with_items'", field="with_items", line=t.line_of("with_items"))
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
        )
        self.seq += 1
        for key in ("retries", "delay"):
            value = t.get(key)
            if isinstance(value, str) and not templating.is_template(value) and not _is_number(value, key == "retries"):
                kind = "an integer" if key == "retries" else "a number"
                raise where.error(f"must be {kind} (or a template), got {value!r}", field=key, line=t.line_of(key))
        if "with_items" in t and isinstance(loop, list):
            task = replace(task, loop=templating.FILTERS["flatten"](loop, 1))
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


def load_playbook(path: str | Path, resolver: ModuleResolver | None = None) -> Playbook:
    """Load and check a playbook file; every mistake is one UserError with file:line: field."""
    if resolver is None:
        from kubeform.modules import lookup

        resolver = lookup
    p = Path(path)
    if not os.path.exists(p):
        raise UserError("no such playbook file", file=str(path))
    return _Loader(p, resolver).load()


def field_name(*parts: Any) -> str:
    """Field path text used in messages (re-exported for the runner)."""
    return field_path(parts)


def _is_number(text: str, integer: bool) -> bool:
    """Whether a keyword's string (``retries: "3"``) reads as the number it must be."""
    try:
        int(text) if integer else float(text)
    except ValueError:
        return False
    return True
