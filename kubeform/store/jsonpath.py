"""kubectl's JSONPath templates (``-o jsonpath=...``, ``-o custom-columns=...``).

The dialect of client-go's ``util/jsonpath``, which the Kubernetes documentation's
one-liners use: text with ``{...}`` actions; in an action ``.a.b``, ``$``/``@``, ``*``,
``..`` (recursive descent), ``[N]`` (negative counts from the end), ``[a:b:c]``,
``[a,b]``, ``['key']``, filters ``[?(@.x=="y")]`` (``== != < > <= >=`` or existence),
``{range EXPR}...{end}`` and quoted text ``{"\\n"}``. Several results of one action are
joined by a space; strings print raw, other values as compact JSON; a missing key prints
nothing (kubectl sets allowMissingKeys). Parsing and evaluating are pure functions, so
each construct is a data-driven case (tests/data/printers/jsonpath.yaml); a bad template
is one ``UserError`` line naming what is wrong.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubeform.errors import UserError


class JSONPathError(UserError):
    """A template that cannot be parsed or evaluated."""


# -- the parsed form ------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    name: str  # "*" = every value


@dataclass(frozen=True)
class Recursive:
    """``..``: the value and all its descendants (the next step selects among them)."""


@dataclass(frozen=True)
class Index:
    """``[N]``, ``[a:b:c]`` (None = open end) or ``[*]``."""

    start: int | None
    end: int | None = None
    step: int | None = None
    is_slice: bool = False
    wildcard: bool = False


@dataclass(frozen=True)
class Union_:
    """``[0,2]`` or ``['a','b']``."""

    keys: tuple[int | str, ...]


@dataclass(frozen=True)
class Filter:
    """``[?(@.x OP literal)]``; ``op`` None = the path exists."""

    left: tuple[Any, ...]
    op: str | None
    right: Any
    right_is_path: bool = False


Step = Field | Recursive | Index | Union_ | Filter


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Range:
    path: Path
    body: tuple[Node, ...]


Node = Text | Path | Range


# -- parsing ---------------------------------------------------------------------------
def _fail(template: str, message: str) -> JSONPathError:
    return JSONPathError(f"error parsing jsonpath {template}: {message}")


def _actions(template: str) -> Iterator[tuple[bool, str]]:
    """(is_action, text) pieces: text outside braces, the inside of each ``{...}``."""
    i, n = 0, len(template)
    while i < n:
        start = template.find("{", i)
        if start < 0:
            yield False, template[i:]
            return
        if start > i:
            yield False, template[i:start]
        j, quote = start + 1, ""
        while j < n:
            c = template[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c == "}":
                break
            j += 1
        if j >= n:
            raise _fail(template, "unclosed action (a '{' without its '}')")
        yield True, template[start + 1 : j]
        i = j + 1


def parse(template: str) -> tuple[Node, ...]:
    """The template as nodes; ``range`` bodies nested up to their ``end``."""
    stack: list[tuple[Path | None, list[Node]]] = [(None, [])]
    for is_action, text in _actions(template):
        if not is_action:
            stack[-1][1].append(Text(text))
            continue
        inner = text.strip()
        if inner == "end":
            if len(stack) == 1:
                raise _fail(template, "'end' without a 'range'")
            path, body = stack.pop()
            assert path is not None
            stack[-1][1].append(Range(path, tuple(body)))
        elif inner.startswith("range ") or inner == "range":
            stack.append((parse_path(inner[5:].strip(), template), []))
        elif inner[:1] in ("'", '"'):
            stack[-1][1].append(Text(_unquote(inner, template)))
        elif inner == "":
            raise _fail(template, "empty action '{}'")
        else:
            stack[-1][1].append(parse_path(inner, template))
    if len(stack) > 1:
        raise _fail(template, "'range' without its '{end}'")
    return tuple(stack[0][1])


def _unquote(literal: str, template: str) -> str:
    try:
        value = ast.literal_eval(literal)
    except (ValueError, SyntaxError):
        raise _fail(template, f"bad quoted text {literal}") from None
    if not isinstance(value, str):
        raise _fail(template, f"bad quoted text {literal}")
    return value


_NAME = re.compile(r"(?:\\.|[^.\[\]\s\\()=!<>,'\"])+")
_INT = re.compile(r"-?\d+")


def parse_path(expr: str, template: str | None = None) -> Path:
    """``.a.b[0]`` / ``$.a`` / ``@.a`` / ``..a`` as steps."""
    where = template if template is not None else expr
    if not expr:
        raise _fail(where, "empty path")
    steps: list[Step] = []
    i, n = 0, len(expr)
    if expr[0] in "$@":
        i = 1
    elif expr[0] not in ".[":
        raise _fail(where, f"unrecognized identifier {expr!r} (a path starts with '.', e.g. .metadata.name)")
    while i < n:
        c = expr[i]
        if expr.startswith("..", i):
            steps.append(Recursive())
            i += 2
            if i < n and expr[i] == "[":
                continue
            i = _name_step(expr, i, steps, where)
        elif c == ".":
            i = _name_step(expr, i + 1, steps, where)
        elif c == "[":
            i = _bracket(expr, i, steps, where)
        else:
            raise _fail(where, f"unexpected {expr[i:]!r} in {expr!r}")
    return Path(tuple(steps))


def _name_step(expr: str, i: int, steps: list[Step], where: str) -> int:
    if i < len(expr) and expr[i] == "*":
        steps.append(Field("*"))
        return i + 1
    m = _NAME.match(expr, i)
    if not m:
        if i >= len(expr):  # a bare "." (or "$.") is the current value
            return i
        raise _fail(where, f"expected a field name at {expr[i:]!r}")
    steps.append(Field(re.sub(r"\\(.)", r"\1", m.group())))
    return m.end()


def _closing(expr: str, i: int, where: str) -> int:
    """Index of the ']' closing the '[' at i (quotes and parentheses respected)."""
    depth, quote, j = 0, "", i + 1
    while j < len(expr):
        c = expr[j]
        if quote:
            if c == "\\":
                j += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "]" and depth == 0:
            return j
        j += 1
    raise _fail(where, "unterminated array subscript (a '[' without its ']')")


def _bracket(expr: str, i: int, steps: list[Step], where: str) -> int:
    j = _closing(expr, i, where)
    inner = expr[i + 1 : j].strip()
    if inner == "*":
        steps.append(Index(None, wildcard=True))
    elif inner.startswith("?"):
        steps.append(_filter(inner[1:].strip(), where))
    elif inner[:1] in ("'", '"') and "," not in inner:
        steps.append(Field(_unquote(inner, where)))
    elif ":" in inner:
        parts = [p.strip() for p in inner.split(":")]
        if len(parts) > 3 or not all(p == "" or _INT.fullmatch(p) for p in parts):
            raise _fail(where, f"invalid array slice [{inner}]")
        nums = [int(p) if p else None for p in parts] + [None] * (3 - len(parts))
        if nums[2] == 0:
            raise _fail(where, f"invalid array slice [{inner}]: step must not be 0")
        steps.append(Index(nums[0], nums[1], nums[2], is_slice=True))
    elif "," in inner:
        keys: list[int | str] = []
        for part in (p.strip() for p in inner.split(",")):
            if _INT.fullmatch(part):
                keys.append(int(part))
            elif part[:1] in ("'", '"'):
                keys.append(_unquote(part, where))
            else:
                raise _fail(where, f"invalid union member {part!r} in [{inner}]")
        steps.append(Union_(tuple(keys)))
    elif _INT.fullmatch(inner):
        steps.append(Index(int(inner)))
    else:
        raise _fail(where, f"invalid array index [{inner}]")
    return j + 1


_COMPARISON = re.compile(r"^(?P<left>@[^=!<>]*?)\s*(?P<op>==|!=|<=|>=|<|>)\s*(?P<right>.+)$")


def _filter(text: str, where: str) -> Filter:
    if not (text.startswith("(") and text.endswith(")")):
        raise _fail(where, f"invalid filter ?{text} (write [?(@.field==\"value\")])")
    body = text[1:-1].strip()
    m = _COMPARISON.match(body)
    if not m:
        if body.startswith("@"):
            return Filter(parse_path(body, where).steps, None, None)
        raise _fail(where, f"invalid filter ({body}) (write [?(@.field==\"value\")])")
    left = parse_path(m.group("left").strip(), where).steps
    right_text = m.group("right").strip()
    if right_text.startswith("@") or right_text.startswith("$"):
        return Filter(left, m.group("op"), parse_path(right_text, where).steps, right_is_path=True)
    return Filter(left, m.group("op"), _literal(right_text, where))


def _literal(text: str, where: str) -> Any:
    if text[:1] in ("'", '"'):
        return _unquote(text, where)
    if text in ("true", "false"):
        return text == "true"
    if text == "nil" or text == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise _fail(where, f"invalid filter value {text!r} (quote strings: \"value\")") from None


# -- evaluating ------------------------------------------------------------------------
def _descendants(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _descendants(value[k])
    elif isinstance(value, list):
        for v in value:
            yield from _descendants(v)


def _index(values: list[Any], step: Index) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if isinstance(v, dict) and step.wildcard:
            out.extend(v[k] for k in sorted(v, key=str))
            continue
        if not isinstance(v, list):
            continue
        if step.wildcard:
            out.extend(v)
        elif step.is_slice:
            out.extend(v[slice(step.start, step.end, step.step)])
        else:
            assert step.start is not None
            k = step.start + len(v) if step.start < 0 else step.start
            if not 0 <= k < len(v):
                raise JSONPathError(f"error executing jsonpath: array index out of bounds: index {step.start}, length {len(v)}")
            out.append(v[k])
    return out


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if isinstance(left, bool) or isinstance(right, bool):
        return False
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return _ordered(float(left), float(right), op)
    if isinstance(left, str) and isinstance(right, str):
        return _ordered(left, right, op)
    return False


def _ordered(a: Any, b: Any, op: str) -> bool:
    return bool({"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op])


def _matches(item: Any, f: Filter, root: Any) -> bool:
    found = walk(item, f.left, root)
    if f.op is None:
        return bool(found)
    rights = walk(item, f.right, root) if f.right_is_path else [f.right]
    return any(_compare(a, f.op, b) for a in found for b in rights)


def walk(current: Any, steps: tuple[Step, ...], root: Any | None = None) -> list[Any]:
    """Every value the steps select from ``current`` (missing keys select nothing)."""
    values = [current]
    root = current if root is None else root
    for step in steps:
        if isinstance(step, Field):
            nxt: list[Any] = []
            for v in values:
                if not isinstance(v, dict):
                    continue
                if step.name == "*":
                    nxt.extend(v[k] for k in sorted(v, key=str))
                elif step.name in v:
                    nxt.append(v[step.name])
            values = nxt
        elif isinstance(step, Recursive):
            values = [d for v in values for d in _descendants(v)]
        elif isinstance(step, Index):
            values = _index(values, step)
        elif isinstance(step, Union_):
            nxt = []
            for v in values:
                for key in step.keys:
                    if isinstance(key, int) and isinstance(v, list) and -len(v) <= key < len(v):
                        nxt.append(v[key])
                    elif isinstance(key, str) and isinstance(v, dict) and key in v:
                        nxt.append(v[key])
            values = nxt
        else:
            values = [item for v in values if isinstance(v, list) for item in v if _matches(item, step, root)]
    return values


def text_of(value: Any) -> str:
    """How kubectl prints one result: strings raw, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _execute(nodes: tuple[Node, ...], current: Any, root: Any, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, Text):
            out.append(node.text)
        elif isinstance(node, Path):
            out.append(" ".join(text_of(v) for v in walk(current, node.steps, root)))
        else:
            found = walk(current, node.path.steps, root)
            if len(found) == 1 and isinstance(found[0], list):
                found = found[0]
            for item in found:
                _execute(node.body, item, root, out)


def render(template: str, data: Any) -> str:
    """The template applied to ``data`` (an object, or a List for several)."""
    return render_nodes(parse(template), data)


def render_nodes(nodes: tuple[Node, ...], data: Any) -> str:
    """Parsed nodes applied to ``data`` (parse once, render per row)."""
    out: list[str] = []
    _execute(nodes, data, data, out)
    return "".join(out)


def relaxed(expr: str) -> str:
    """kubectl's relaxed form for custom columns: ``metadata.name``, ``.metadata.name`` and
    ``{.metadata.name}`` mean the same template."""
    text = expr.strip()
    if text.startswith("{") and text.endswith("}"):
        return text
    if not text.startswith((".", "$", "@", "[")):
        text = "." + text
    return "{" + text + "}"
