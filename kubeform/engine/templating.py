"""Jinja2 templating of task arguments, conditions and loops, Ansible-style.

Playbooks written for Ansible expect its filters and its habit of returning the native
value of a string that is one single expression (``"{{ ports }}"`` is a list, not its
repr). Undefined names are always errors (StrictUndefined) so a typo never silently
becomes an empty string on a host. Compiled templates are cached by source text: an
idempotent re-run renders the same strings many times and must stay cheap.
"""

from __future__ import annotations

import base64
import hashlib
import json
import ntpath
import os.path
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

import jinja2
import jinja2.meta
import jinja2.nodes
import yaml

from kubeform.engine import ansible_filters, lookups
from kubeform.errors import UserError

OMIT = "__kubeform_omit_place_holder__"
"""Value of the ``omit`` variable: an argument rendered to it is dropped."""

# The whole string is one expression (no text around it): its value keeps its type.
_SINGLE_EXPR = re.compile(r"^\{\{(?P<expr>(?:(?!\{\{|\}\}).)*)\}\}\Z", re.S)


# -- filters and tests -------------------------------------------------------------


def _truthy(value: Any) -> bool:
    """Ansible's ``bool``: yes/no/on/off/true/false/1/0 strings as YAML would read them."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in {"yes", "true", "on", "1", "y", "t"}:
            return True
        if v in {"no", "false", "off", "0", "n", "f", ""}:
            return False
        return True
    return bool(value)


def _b64encode(value: Any, encoding: str = "utf-8") -> str:
    data = value if isinstance(value, bytes) else str(value).encode(encoding)
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: Any, encoding: str = "utf-8") -> str:
    return base64.b64decode(str(value)).decode(encoding)


def _flags(ignorecase: bool, multiline: bool) -> int:
    return (re.I if ignorecase else 0) | (re.M if multiline else 0)


def _regex_replace(value: Any, pattern: str, replacement: str = "", ignorecase: bool = False, multiline: bool = False, count: int = 0) -> str:
    return re.sub(pattern, replacement, str(value), count=count, flags=_flags(ignorecase, multiline))


def _regex_search(value: Any, pattern: str, *groups: str, ignorecase: bool = False, multiline: bool = False) -> Any:
    m = re.search(pattern, str(value), flags=_flags(ignorecase, multiline))
    if m is None:
        return None
    if not groups:
        return m.group(0)
    out = []
    for g in groups:
        if g.startswith("\\"):
            out.append(m.group(int(g[1:])))
        else:
            out.append(m.group(g))
    return out


def _regex_findall(value: Any, pattern: str, ignorecase: bool = False, multiline: bool = False) -> list[Any]:
    return re.findall(pattern, str(value), flags=_flags(ignorecase, multiline))


def _to_json(value: Any, **kw: Any) -> str:
    return json.dumps(value, **kw)


def _to_nice_json(value: Any, indent: int = 4, **kw: Any) -> str:
    return json.dumps(value, indent=indent, sort_keys=True, **kw)


def _to_yaml(value: Any, **kw: Any) -> str:
    return str(yaml.safe_dump(_plain(value), default_flow_style=kw.pop("default_flow_style", None), **kw))


def _to_nice_yaml(value: Any, indent: int = 4, **kw: Any) -> str:
    return str(yaml.safe_dump(_plain(value), indent=indent, default_flow_style=False, **kw))


def _plain(value: Any) -> Any:
    """Turn LineDict/LineList (and tuples) back into plain containers for dumping."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _mandatory(value: Any, msg: str | None = None) -> Any:
    if isinstance(value, jinja2.Undefined):
        raise jinja2.UndefinedError(msg or "mandatory variable not defined")
    return value


def _ternary(value: Any, true_val: Any, false_val: Any, none_val: Any = None) -> Any:
    if value is None and none_val is not None:
        return none_val
    return true_val if _truthy(value) else false_val


def _combine(*dicts: Mapping[str, Any], recursive: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dicts:
        for k, v in d.items():
            if recursive and isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
                out[k] = _combine(out[k], v, recursive=True)
            else:
                out[k] = v
    return out


def _dict2items(value: Mapping[str, Any], key_name: str = "key", value_name: str = "value") -> list[dict[str, Any]]:
    return [{key_name: k, value_name: v} for k, v in value.items()]


def _items2dict(value: Iterable[Mapping[str, Any]], key_name: str = "key", value_name: str = "value") -> dict[Any, Any]:
    return {i[key_name]: i[value_name] for i in value}


def _flatten(value: Iterable[Any], levels: int | None = None) -> list[Any]:
    out: list[Any] = []
    for v in value:
        if isinstance(v, list | tuple) and (levels is None or levels > 0):
            out.extend(_flatten(v, None if levels is None else levels - 1))
        else:
            out.append(v)
    return out


def _unique(value: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in value:
        if v not in out:
            out.append(v)
    return out


def _hash(value: Any, algo: str = "sha1") -> str:
    return hashlib.new(algo, str(value).encode()).hexdigest()


def _version_test(value: Any, other: Any, op: str = "eq", strict: bool = False) -> bool:
    """Ansible's ``version`` test on dotted numeric versions (non-numeric parts compare as text)."""

    def key(v: Any) -> list[tuple[int, Any]]:
        parts = re.split(r"[.\-+_]", str(v))
        return [(0, int(p)) if p.isdigit() else (1, p) for p in parts if p != ""]

    a, b = key(value), key(other)
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "lt": lambda x, y: x < y, "<": lambda x, y: x < y,
        "le": lambda x, y: x <= y, "<=": lambda x, y: x <= y,
        "gt": lambda x, y: x > y, ">": lambda x, y: x > y,
        "ge": lambda x, y: x >= y, ">=": lambda x, y: x >= y,
        "eq": lambda x, y: x == y, "==": lambda x, y: x == y, "=": lambda x, y: x == y,
        "ne": lambda x, y: x != y, "!=": lambda x, y: x != y, "<>": lambda x, y: x != y,
    }  # fmt: skip
    if op not in ops:
        raise jinja2.TemplateRuntimeError(f"version test: unknown operator {op!r}")
    return ops[op](a, b)


def _result_test(key: str) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        if not isinstance(value, Mapping):
            return False
        if key == "succeeded":
            return not value.get("failed", False)
        return bool(value.get(key, False))

    return test


FILTERS: dict[str, Callable[..., Any]] = {
    "bool": _truthy,
    "to_json": _to_json,
    "to_nice_json": _to_nice_json,
    "from_json": lambda v, **kw: v if isinstance(v, jinja2.Undefined) else json.loads(v, **kw),
    "to_yaml": _to_yaml,
    "to_nice_yaml": _to_nice_yaml,
    "from_yaml": lambda v: v if isinstance(v, jinja2.Undefined) else yaml.safe_load(v),
    "b64encode": _b64encode,
    "b64decode": _b64decode,
    "regex_replace": _regex_replace,
    "regex_search": _regex_search,
    "regex_findall": _regex_findall,
    "basename": os.path.basename,
    "dirname": os.path.dirname,
    "win_basename": ntpath.basename,
    "splitext": lambda v: list(os.path.splitext(v)),
    "expanduser": os.path.expanduser,
    "quote": lambda v: shlex.quote(str(v)),
    "mandatory": _mandatory,
    "ternary": _ternary,
    "combine": _combine,
    "dict2items": _dict2items,
    "items2dict": _items2dict,
    "flatten": _flatten,
    "unique": _unique,
    "union": lambda a, b: _unique([*a, *b]),
    "intersect": lambda a, b: [x for x in _unique(a) if x in b],
    "difference": lambda a, b: [x for x in _unique(a) if x not in b],
    "hash": _hash,
    "sha1": lambda v: _hash(v, "sha1"),
    "md5": lambda v: _hash(v, "md5"),
    "checksum": lambda v: _hash(v, "sha1"),
    "type_debug": lambda v: type(v).__name__,
    "string": str,
}

TESTS: dict[str, Callable[..., bool]] = {
    "version": _version_test,
    "version_compare": _version_test,
    "match": lambda v, p, ignorecase=False: re.match(p, str(v), re.I if ignorecase else 0) is not None,
    "search": lambda v, p, ignorecase=False: re.search(p, str(v), re.I if ignorecase else 0) is not None,
    "regex": lambda v, p, ignorecase=False: re.search(p, str(v), re.I if ignorecase else 0) is not None,
    "changed": _result_test("changed"),
    "failed": _result_test("failed"),
    "skipped": _result_test("skipped"),
    "succeeded": _result_test("succeeded"),
    "success": _result_test("succeeded"),
    "truthy": _truthy,
    "falsy": lambda v: not _truthy(v),
    "contains": lambda seq, v: v in seq,
    "abs": os.path.isabs,
}


class _Undefined(jinja2.ChainableUndefined, jinja2.StrictUndefined):
    """Strict on use, chainable on access: ``x.y | default(1)`` works when x is undefined.

    Any use of an undefined value (printing, comparing, iterating, testing truth) is
    still an error, as with StrictUndefined; only attribute and item access pass the
    undefined along, so Ansible's ``a.b.c | default(..)`` and ``a.b is defined`` work.
    """


def _make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=_Undefined,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        autoescape=False,
    )
    env.filters.update(FILTERS)
    env.filters.update(ansible_filters.FILTERS)
    env.tests.update(TESTS)
    env.globals.update(lookups.GLOBALS)
    for name, f in list(env.filters.items()):  # ansible.builtin.combine, community.general.x ...
        for ns in ("ansible.builtin", "community.general", "ansible.utils", "ansible.netcommon"):
            env.filters.setdefault(f"{ns}.{name}", f)
    for name, f in ansible_filters.IP_TESTS.items():
        env.tests.setdefault(name, f)
        env.tests.setdefault(f"ansible.utils.{name}", f)
    for name, t in list(env.tests.items()):
        env.tests.setdefault(f"ansible.builtin.{name}", t)
    return env


ENV = _make_env()


# -- compilation (cached) ----------------------------------------------------------


@lru_cache(maxsize=8192)
def _template(source: str) -> jinja2.Template:
    return ENV.from_string(source)


@lru_cache(maxsize=8192)
def _expression(source: str) -> Callable[..., Any]:
    return ENV.compile_expression(source, undefined_to_none=False)


@lru_cache(maxsize=8192)
def _names_in(source: str, is_expression: bool) -> frozenset[str]:
    text = "{{ " + source + " }}" if is_expression else source
    return frozenset(jinja2.meta.find_undeclared_variables(ENV.parse(text)))


def is_template(value: Any) -> bool:
    """Whether a string holds Jinja2 markup (anything else is passed through untouched)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


# -- errors --------------------------------------------------------------------------


class TemplateError(UserError):
    """A template that could not be rendered; the caller adds file, line and field."""


def _explain(err: Exception) -> TemplateError:
    if isinstance(err, jinja2.UndefinedError):
        msg = str(err.message or err)
        msg = msg.replace("kubeform.yamlsrc.LineDict object", "dict object").replace(
            "kubeform.yamlsrc.LineList object", "list object"
        )
        m = re.match(r"'([^']+)' is undefined", msg)
        if m:
            return TemplateError(f"undefined variable '{m.group(1)}'")
        return TemplateError(f"undefined: {msg}")
    if isinstance(err, jinja2.TemplateSyntaxError):
        return TemplateError(f"template syntax error: {err.message}")
    if isinstance(err, RecursionError):  # (((((...))))) a few hundred deep: Jinja recurses
        return TemplateError("template nested too deep to compile (simplify the expression)")
    if isinstance(err, ValueError) and "integer string conversion" in str(err):
        return TemplateError("integer too large (more than 4300 digits)")
    return TemplateError(f"template error: {type(err).__name__}: {err}")


# -- public API ----------------------------------------------------------------------


def _eval_expression(source: str, variables: Mapping[str, Any]) -> Any:
    """Evaluate a bare expression without copying ``variables``.

    Jinja2's own ``TemplateExpression.__call__`` copies its arguments into a dict, which
    would force every lazily rendered variable; a shared context reads only what the
    expression uses.
    """
    expr: Any = _expression(source)
    template: jinja2.Template = expr._template
    ctx = template.new_context(_WithGlobals(variables), shared=True)  # type: ignore[arg-type]
    for _ in template.root_render_func(ctx):
        pass
    value = ctx.vars["result"]
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    return value


class _WithGlobals(Mapping[str, Any]):
    """``variables`` over Jinja2's globals (range, dict, namespace...), read lazily."""

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._vars = variables

    def __getitem__(self, key: str) -> Any:
        if key in self._vars:
            return self._vars[key]
        return ENV.globals[key]

    def __contains__(self, key: object) -> bool:
        return key in self._vars or key in ENV.globals

    def __iter__(self) -> Iterator[str]:
        yield from dict.fromkeys([*self._vars, *ENV.globals])

    def __len__(self) -> int:
        return len(set(self._vars) | set(ENV.globals))


def render_string(source: str, variables: Mapping[str, Any]) -> Any:
    """Render one string; a lone ``{{ expr }}`` yields the expression's native value."""
    if not is_template(source):
        return source
    try:
        m = _SINGLE_EXPR.match(source)
        if m is not None:
            return _eval_expression(m.group("expr"), variables)
        template = _template(source)
        ctx = template.new_context(_WithGlobals(variables), shared=True)  # type: ignore[arg-type]
        return ENV.concat(template.root_render_func(ctx))
    except TemplateError:
        raise
    except Exception as err:  # jinja2 and filter errors become one user-facing line
        raise _explain(err) from None


def render(value: Any, variables: Mapping[str, Any]) -> Any:
    """Render every string inside ``value`` (dicts, lists); drop values rendered to ``omit``."""
    if isinstance(value, str):
        return render_string(value, variables)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            r = render(v, variables)
            if isinstance(r, str) and r == OMIT:
                continue
            out[render_string(k, variables) if isinstance(k, str) else k] = r
        return out
    if isinstance(value, list | tuple):
        return [r for r in (render(v, variables) for v in value) if not (isinstance(r, str) and r == OMIT)]
    return value


def evaluate(condition: Any, variables: Mapping[str, Any]) -> bool:
    """Evaluate a ``when``-style condition: a bare Jinja2 expression (or a boolean)."""
    if isinstance(condition, bool):
        return condition
    if condition is None:
        return False
    if not isinstance(condition, str):
        return _truthy(condition)
    expr = condition.strip()
    m = _SINGLE_EXPR.match(expr)
    if m is not None:
        expr = m.group("expr").strip()
    if not expr:
        return False
    try:
        value = _eval_expression(expr, variables)
    except TemplateError:
        raise
    except Exception as err:
        raise _explain(err) from None
    return _truthy(value)


def conditions_hold(conditions: Iterable[Any], variables: Mapping[str, Any]) -> bool:
    """A list of conditions is their ``and`` (Ansible's ``when: [a, b]``)."""
    return all(evaluate(c, variables) for c in conditions)


def _template_strings(value: Any, expression: bool, keys: bool) -> Iterator[tuple[str, bool]]:
    """Every template source inside ``value``, with whether it is a bare expression.

    ``expression`` marks ``when``-style strings (bare expressions, ``{{ }}`` optional);
    with ``keys``, mapping keys are searched too (they may be templates as well).
    """
    if isinstance(value, str):
        if expression:
            m = _SINGLE_EXPR.match(value.strip())
            src = m.group("expr") if m else value
            if src.strip():
                yield src, True
        elif is_template(value):
            yield value, False
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if keys and isinstance(k, str):
                yield from _template_strings(k, False, keys)
            yield from _template_strings(v, expression, keys)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _template_strings(v, expression, keys)


def referenced_names(value: Any, *, expression: bool = False) -> frozenset[str]:
    """Every variable name a value's templates read (for facts and dependency tracking).

    ``expression`` marks ``when``-style strings that are bare expressions. A syntax error
    is raised as a ``TemplateError`` so a broken template is reported before any host is
    touched.
    """
    names: set[str] = set()
    for src, is_expression in _template_strings(value, expression, keys=True):
        try:
            names |= _names_in(src, is_expression)
        except (jinja2.TemplateSyntaxError, RecursionError, ValueError) as err:
            raise _explain(err) from None
    return frozenset(names)


# A name read only through these is optional: ``x | default(1)``, ``x is defined``.
_GUARD_FILTERS = frozenset({"default", "d"})
_GUARD_TESTS = frozenset({"defined", "undefined"})


@lru_cache(maxsize=8192)
def _guarded_in(source: str, is_expression: bool) -> frozenset[str]:
    text = "{{ " + source + " }}" if is_expression else source
    guarded: set[str] = set()
    for node in ENV.parse(text).find_all((jinja2.nodes.Filter, jinja2.nodes.Test)):
        is_guard = node.name in (_GUARD_FILTERS if isinstance(node, jinja2.nodes.Filter) else _GUARD_TESTS)
        root = node.node
        while isinstance(root, jinja2.nodes.Getattr | jinja2.nodes.Getitem):
            root = root.node  # x.y.z | default(..): undefined access chains (see _Undefined)
        if is_guard and isinstance(root, jinja2.nodes.Name):
            guarded.add(root.name)
    return frozenset(guarded)


def guarded_names(value: Any, *, expression: bool = False) -> frozenset[str]:
    """Names a value's templates pass to ``default`` or test with ``is (un)defined``.

    Ansible users write ``x | default(...)`` and ``when: x is defined`` precisely for
    variables that may not exist, so the check for undefined names before connecting
    must not reject them; rendering still fails for an unguarded use on a host where
    the name really is undefined. Syntax errors are left to ``referenced_names``.
    """
    names: set[str] = set()
    for src, is_expression in _template_strings(value, expression, keys=False):
        try:
            names |= _guarded_in(src, is_expression)
        except (jinja2.TemplateSyntaxError, RecursionError, ValueError):
            continue
    return frozenset(names)
