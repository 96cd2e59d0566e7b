"""A task's inputs for one host: its name, become, loop items, rendered arguments and
the module call prepared from them (arguments after ``prepare``, the facts it needs).

Decisions only: rendering reads variables, and preparing may read a local file beside
the playbook (``copy src``, ``template``); nothing here talks to a host. Every user
mistake is a UserError naming the task's file, line and field.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kubeform.engine import loop_forms, templating
from kubeform.engine.arg_coercion import coerce
from kubeform.engine.outcomes import truthy
from kubeform.engine.playbook import Block, ModuleResolver, Play, Task
from kubeform.engine.validation import check
from kubeform.engine.variables import Vars
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from kubeform.modules.base import Fact, Module, ModuleArgError
from kubeform.yamlsrc import LineDict


@dataclass
class Prepared:
    """A module call ready to plan: arguments after prepare, the module, the facts it needs."""

    module: Module
    args: dict[str, Any]
    facts: list[Fact]
    env: dict[str, str] = field(default_factory=dict)  # the task's ``environment``


def local_candidates(path: str, dirs: Sequence[str], subdirs: Sequence[str] = ("", "files", "templates")) -> list[Path]:
    """Where a relative local file is looked for: each directory, then its ``files/``, ``templates/``."""
    p = Path(path)
    if p.is_absolute():
        return [p]
    return [Path(d) / sub / p for d in dict.fromkeys(dirs) for sub in subdirs]


class LocalPrepareContext:
    """``PrepareContext`` for modules: local files beside the role or playbook, task templating."""

    def __init__(self, base_dir: str, variables: Vars, search_dirs: Sequence[str] = ()) -> None:
        self.base_dir = base_dir
        self._vars = variables
        self._dirs = [*search_dirs, base_dir]

    def read_local(self, path: str) -> bytes:
        candidates = local_candidates(path, self._dirs)
        for c in candidates:
            if c.is_file():
                return c.read_bytes()
        raise ModuleArgError(f"no such local file: {path} (looked in {', '.join(str(c.parent) for c in candidates)})", field="src")

    def render(self, text: str) -> str:
        return str(templating.render_string(text, self._vars)) if templating.is_template(text) else text


def safe_render(value: Any, v: Vars) -> Any:
    """Render a keyword's value when it is a template, else take it as it is."""
    if isinstance(value, str) and templating.is_template(value):
        return templating.render(value, v)
    return value


def short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def task_name(task: Task, variables: Vars) -> str:
    """The task's name, rendered when it can be (else as written)."""
    if not templating.is_template(task.name):
        return task.name
    try:
        return str(templating.render_string(task.name, variables))
    except Exception:
        return task.name


def become_of(task: Task, play: Play, host: Host, variables: Vars) -> tuple[bool, str]:
    """(become, become_user): the task's, else the play's, else the host's."""
    raw = task.become if task.become is not None else play.become
    become = host.become if raw is None else truthy(templating.render(raw, variables))
    user = task.become_user or play.become_user or host.become_user
    return become, str(templating.render(user, variables))


def loop_vars(task: Task | Block, variables: Vars, base_dir: str = "") -> list[dict[str, Any]]:
    """One variable layer per loop item (``item``, the index var); ``[{}]`` without loop."""
    if task.loop is None:
        return [{}]
    rendered = templating.render(task.loop, variables)
    here = os.path.dirname(task.where.file)
    dirs = [*getattr(task, "search_dirs", ()), *([here] if here else []), base_dir]
    action = task.action if isinstance(task, Task) else "include_tasks"
    try:
        items = loop_forms.items(task.loop_form, rendered, dirs, action)
    except loop_forms.LoopFormError as err:
        raise task.where.error(str(err), field=task.loop_form) from None
    out = []
    for i, item in enumerate(items):
        lv: dict[str, Any] = {task.loop_var: item}
        if task.index_var:
            lv[task.index_var] = i
        out.append(lv)
    return out


def item_label(task: Task, v: Vars) -> str:
    """A loop item's label (``loop_control.label``, else the item), shortened."""
    raw = task.loop_label if task.loop_label is not None else f"{{{{ {task.loop_var} }}}}"
    return short(str(safe_render(raw, v)))


def number(task: Task, key: str, v: Vars, kind: Callable[[Any], Any]) -> Any:
    """``retries``/``delay`` after rendering, or a UserError naming the keyword's line."""
    value = safe_render(getattr(task, key), v)
    try:
        return kind(value or 0)
    except (TypeError, ValueError):
        what = "an integer" if kind is int else "a number"
        raise task.where.error(f"must be {what}, got {value!r}", field=key, line=task.key_lines.get(key)) from None


def render_args(task: Task, v: Vars) -> dict[str, Any]:
    """The task's arguments rendered; ``omit`` drops an argument."""
    if isinstance(task.args, str):
        try:
            rendered = templating.render(task.args, v)
        except UserError as err:
            raise task.where.error(err.message, field=task.action) from None
        if not isinstance(rendered, Mapping):
            raise task.where.error("arguments must render to a mapping", field=task.action)
        return dict(rendered)
    out: dict[str, Any] = {}
    for key, value in task.args.items():
        try:
            r = templating.render(value, v)
        except UserError as err:
            name = task.action if key == "_raw_params" else f"{task.action}.{key}"
            raise task.where.error(err.message, field=name, line=task.arg_lines.get(str(key))) from None
        if isinstance(r, str) and r == templating.OMIT:
            continue
        if isinstance(key, str) and templating.is_template(key):  # set_fact: {"{{ item.key }}": ...}
            try:
                key = str(templating.render_string(key, v))
            except UserError as err:
                raise task.where.error(err.message, field=task.action, line=task.arg_lines.get(str(key))) from None
        out[key] = r
    return out


def arg_root(task: Task) -> LineDict:
    """The task's arguments with their lines, so a rendered value's schema error names its own line."""
    root = LineDict(task.args if isinstance(task.args, Mapping) else {})
    root.line = task.key_lines.get(task.action) or task.where.line
    root.key_lines.update(task.arg_lines)
    return root


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def environment_of(task: Task, v: Vars) -> dict[str, str]:
    """The task's ``environment`` (play, role, block and task mappings merged, inner wins)."""
    env: dict[str, str] = {}
    for raw in task.environment:
        try:
            value = templating.render(raw, v)
        except UserError as err:
            raise task.where.error(err.message, field="environment", line=task.key_lines.get("environment")) from None
        if value in (None, ""):
            continue
        if not isinstance(value, Mapping):
            raise task.where.error("environment must be a mapping of names to values", field="environment", line=task.key_lines.get("environment"))
        for name, val in value.items():
            if not _ENV_NAME.match(str(name)):
                raise task.where.error(f"environment: {name!r} is not a variable name", field="environment", line=task.key_lines.get("environment"))
            if val is not None and not (isinstance(val, str) and val == templating.OMIT):
                env[str(name)] = str(val).lower() if isinstance(val, bool) else str(val)
    return env


def env_prefix(env: Mapping[str, str]) -> str:
    """``export NAME='value' ...; `` for the start of a shell command."""
    if not env:
        return ""
    return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()) + "; "


def with_environment(facts: Sequence[Fact], env: Mapping[str, str]) -> list[Fact]:
    """The module's probes run in the task's environment too (a proxy for uri, a PATH).

    Keys stay the module's own: a probe of the same key made earlier without the
    environment (a file's state) is reused; volatile probes always run in it.
    """
    if not env:
        return list(facts)
    prefix = env_prefix(env)
    return [replace(f, command=f"( {prefix}{f.command}\n)") for f in facts]


HOME_PATH_ARGS = ("path", "dest", "creates", "removes")
"""Arguments that are paths on the host, where Ansible expands ``~`` and ``~user``."""


def expand_home(args: dict[str, Any], home: Callable[[str], str] | None) -> dict[str, Any]:
    """``~/x`` and ``~user/x`` in the host-path arguments, with ``home(user)`` (``""`` for
    the task's own user) telling the host's home directories."""
    if home is None:
        return args
    out = dict(args)
    for key in HOME_PATH_ARGS:
        value = out.get(key)
        if isinstance(value, str) and value.startswith("~"):
            user, sep, rest = value[1:].partition("/")
            if user and not re.fullmatch(r"[A-Za-z0-9_.][A-Za-z0-9_.-]*", user):
                continue
            found = home(user)
            if found:
                out[key] = found.rstrip("/") + (sep + rest if sep else "")
    return out


def prepare(task: Task, v: Vars, resolver: ModuleResolver, base_dir: str, home: Callable[[str], str] | None = None) -> Prepared:
    """Resolve the module, render and prepare its arguments, check them, list its facts.

    ``home``: the host's home directory of a user (``""``: the task's own), to expand ``~``
    in path arguments as Ansible does; None leaves them as written."""
    cls = resolver(task.action)
    if cls is None:
        raise task.where.error(f"unknown module '{task.action}'", field=task.action)
    module = cls()
    args = expand_home(coerce(render_args(task, v), module.schema), home)
    try:
        args = module.prepare(args, LocalPrepareContext(base_dir, v, task.search_dirs))
    except ModuleArgError as err:
        raise task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action) from None
    except UserError as err:
        raise err.located(field=f"{task.where.path}.{task.action}", line=task.where.line) from None
    public = {k: val for k, val in args.items() if not str(k).startswith("_")}
    check(module.schema, public, file=task.where.file, root=arg_root(task),
          field_prefix=[f"{task.where.path}.{task.action}"])  # fmt: skip
    try:
        facts = module.facts(args)
    except ModuleArgError as err:
        raise task.where.error(str(err), field=f"{task.action}.{err.field}" if err.field else task.action, line=task.where.line) from None
    env = environment_of(task, v) if task.environment else {}
    return Prepared(module, args, with_environment(facts, env), env)
