"""Ansible's lookups on the controller: ``lookup('env', 'HOME')``, ``query('first_found', ...)``
and the ``with_<lookup>`` loops built on them (``with_first_found``, ``with_env``...).

Lookups read the operator's machine (files beside the role or playbook, environment
variables) and the task's variables; none touches a host. ``first_found`` is the one real
playbooks lean on (OS-specific vars files), so its search order follows Ansible's: each
candidate file under each ``paths`` entry, looked for in the role's directory then the
task file's and the playbook's, in the subdirectory the action implies (``vars/`` for
``include_vars``, ``templates/`` for ``template``, ``files/`` otherwise) and then directly.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2


class LookupError_(ValueError):
    """A lookup that cannot answer (no file found, unknown lookup, bad terms)."""


def _split(value: Any, seps: str) -> list[str]:
    if isinstance(value, str):
        return [p for p in re.split(f"[{re.escape(seps)}]", value) if p]
    return [str(v) for v in value or []]


def subdir_for(action: str) -> str:
    """The subdirectory Ansible gives ``first_found`` from the task's action."""
    for sub in ("template", "var", "file"):
        if sub in action:
            return sub + "s"
    return "files"


def first_found(terms: Any, dirs: Sequence[str], subdir: str = "files") -> list[str]:
    """``[path]`` of the first existing candidate, ``[]`` when none and ``skip`` is set.

    ``terms``: file names, and/or mappings ``{files, paths, skip}`` (strings in them may
    list several names separated by ``,`` or ``;``; paths also by ``:``).
    """
    items = terms if isinstance(terms, list | tuple) else [terms]
    candidates: list[str] = []
    skip = False
    for term in items:
        if isinstance(term, Mapping):
            files = _split(term.get("files", term.get("file", [])), ",;")
            paths = _split(term.get("paths", term.get("path", [])), ",:;")
            skip = skip or (bool(term.get("skip", False)) and str(term.get("skip")).lower() not in ("false", "no", "0"))
            candidates += [os.path.join(p, f) for f in files for p in (paths or [""])]
        elif term is not None:
            candidates.append(str(term))
    for name in candidates:
        if os.path.isabs(name):
            if os.path.exists(name):
                return [name]
            continue
        for d in dirs:
            for sub in (subdir, ""):
                p = Path(d) / sub / name
                if p.exists():
                    return [str(p)]
    if skip:
        return []
    raise LookupError_("first_found: none of these files was found: " + ", ".join(candidates[:6]))


def _search_dirs(ctx: Any) -> list[str]:
    out: list[str] = []
    for key in ("role_path", "playbook_dir"):
        value = ctx.get(key)
        if isinstance(value, str) and value and value not in out:
            out.append(value)
    return out or ["."]


def _local_file(ctx: Any, name: str, subdir: str) -> Path:
    found = first_found([name], _search_dirs(ctx), subdir)
    return Path(found[0])


def _names(ctx: Any) -> list[str]:
    """Every variable name in scope, without rendering any value."""
    return list(dict.fromkeys([*ctx.parent, *ctx.vars]))


def _var(ctx: Any, name: str, default: Any = None, has_default: bool = False) -> Any:
    value = ctx.resolve_or_missing(name)
    if value is jinja2.utils.missing:
        if has_default:
            return default
        raise LookupError_(f"vars: no variable named '{name}'")
    return value


def _run(ctx: Any, name: str, terms: list[Any], kwargs: dict[str, Any]) -> list[Any]:
    """The lookup's list of values (``query``'s answer)."""
    short = name.rsplit(".", 1)[-1]
    if short == "env":
        default = kwargs.get("default", "")
        return [os.environ.get(str(t), default) for t in terms]
    if short == "vars":
        has = "default" in kwargs
        return [_var(ctx, str(t), kwargs.get("default"), has) for t in terms]
    if short == "varnames":
        names = _names(ctx)
        return [n for t in terms for n in names if re.search(str(t), n)]
    if short == "first_found":
        merged: list[Any] = list(terms)
        if kwargs:
            merged = [{**kwargs, "files": terms or kwargs.get("files", [])}] if terms else [kwargs]
        return first_found(merged, _search_dirs(ctx), "files")
    if short == "file":
        return [_local_file(ctx, str(t), "files").read_text().rstrip("\n") if kwargs.get("rstrip", True)
                else _local_file(ctx, str(t), "files").read_text() for t in terms]  # fmt: skip
    if short == "template":
        from kubeform.engine import templating

        out = []
        for t in terms:
            text = _local_file(ctx, str(t), "templates").read_text()
            out.append(templating.render_string(text, _ContextVars(ctx)) if templating.is_template(text) else text)
        return out
    if short == "fileglob":
        hits: list[str] = []
        for t in terms:
            p = str(t)
            roots = [""] if os.path.isabs(p) else [str(Path(d) / s) for d in _search_dirs(ctx) for s in ("files", "")]
            for root in roots:
                found = sorted(h for h in glob.glob(os.path.join(root, p)) if os.path.isfile(h))
                if found:
                    hits += found
                    break
        return hits
    if short in ("items", "flattened"):
        out2: list[Any] = []
        for t in terms:
            if isinstance(t, list | tuple):
                out2 += _flatten(t, None if short == "flattened" else 0)
            else:
                out2.append(t)
        return out2
    if short in ("list",):
        return list(terms)
    if short == "dict":
        value = terms[0] if len(terms) == 1 else {}
        if not isinstance(value, Mapping):
            raise LookupError_("dict: needs a mapping")
        return [{"key": k, "value": v} for k, v in value.items()]
    if short == "indexed_items":
        return [[i, v] for i, v in enumerate(terms)]
    if short == "inventory_hostnames":
        groups = ctx.get("groups") or {}
        out3: list[str] = []
        for t in terms:
            for part in re.split(r"[:,]", str(t)):
                for h in groups.get(part, [part] if part in (ctx.get("hostvars") or {}) else []):
                    if h not in out3:
                        out3.append(h)
        return out3
    if short == "pipe":
        raise LookupError_("the 'pipe' lookup runs commands on the controller: not supported")
    raise LookupError_(f"unknown lookup '{name}' (supported: {', '.join(SUPPORTED)})")


SUPPORTED = ("env", "vars", "varnames", "first_found", "file", "template", "fileglob", "items", "flattened",
             "list", "dict", "indexed_items", "inventory_hostnames")  # fmt: skip


def _flatten(value: Any, levels: int | None) -> list[Any]:
    out: list[Any] = []
    for v in value:
        if isinstance(v, list | tuple) and (levels is None or levels > 0):
            out += _flatten(v, None if levels is None else levels - 1)
        else:
            out.append(v)
    return out


class _ContextVars(Mapping[str, Any]):
    """A Jinja context seen as the variables mapping ``render_string`` takes."""

    def __init__(self, ctx: Any) -> None:
        self._ctx = ctx

    def __getitem__(self, key: str) -> Any:
        value = self._ctx.resolve_or_missing(key)
        if value is jinja2.utils.missing:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._ctx.resolve_or_missing(key) is not jinja2.utils.missing

    def __iter__(self) -> Any:
        return iter(_names(self._ctx))

    def __len__(self) -> int:
        return len(_names(self._ctx))


@jinja2.pass_context
def lookup(ctx: Any, name: str, *terms: Any, **kwargs: Any) -> Any:
    """Ansible's ``lookup``: the values joined by ``,`` (``wantlist=True``: the list)."""
    want_list = bool(kwargs.pop("wantlist", False))
    errors = kwargs.pop("errors", "strict")
    try:
        values = _run(ctx, str(name), list(terms), kwargs)
    except LookupError_:
        if errors in ("ignore", "warn"):
            return [] if want_list else None
        raise
    if want_list:
        return values
    if len(values) == 1 and str(name).rsplit(".", 1)[-1] not in ("items", "flattened", "list"):
        return values[0]
    return ",".join(str(v) for v in values)


@jinja2.pass_context
def query(ctx: Any, name: str, *terms: Any, **kwargs: Any) -> list[Any]:
    """Ansible's ``query`` (``q``): always the list of values."""
    kwargs.pop("wantlist", None)
    errors = kwargs.pop("errors", "strict")
    try:
        return _run(ctx, str(name), list(terms), kwargs)
    except LookupError_:
        if errors in ("ignore", "warn"):
            return []
        raise


GLOBALS: dict[str, Callable[..., Any]] = {"lookup": lookup, "query": query, "q": query}


def is_loop_lookup(form: str) -> bool:
    """Whether ``with_<name>`` names a lookup this module answers."""
    name = form.removeprefix("with_").rsplit(".", 1)[-1]
    return form.startswith("with_") and name in SUPPORTED
