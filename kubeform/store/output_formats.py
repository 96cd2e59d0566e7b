"""``-o FORMAT`` beyond tables: name, jsonpath, custom-columns (kubectl's spellings).

``parse`` turns the flag into (format, argument), reading ``-file`` variants; the
renderers are pure functions of objects, tested with data (tests/data/printers/
output_formats.yaml). Several objects are one kubectl List, the root a template sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubeform.errors import UserError
from kubeform.store import jsonpath

Obj = dict[str, Any]

#: What ``-o`` accepts (kubectl's names).
TABLE_FORMATS = ("", "wide")
FORMATS = ("wide", "yaml", "json", "name", "jsonpath=...", "jsonpath-file=...", "custom-columns=...",
           "custom-columns-file=...")


def parse(value: str | None) -> tuple[str, str]:
    """``-o`` as (format, argument): the argument is the template or columns, file
    variants read (``jsonpath-file`` becomes ``jsonpath``)."""
    text = value or ""
    name, sep, arg = text.partition("=")
    if name in ("", "wide", "yaml", "json", "name") and not sep:
        return name, ""
    if name in ("jsonpath", "custom-columns"):
        if not arg:
            raise UserError(f"{name} format specified but no {'template' if name == 'jsonpath' else 'custom columns'} given",
                            hint=f"e.g. -o {name}=" + ("'{.metadata.name}'" if name == "jsonpath" else "NAME:.metadata.name"))
        if name == "jsonpath":
            jsonpath.parse(arg)  # a bad template fails before anything is read
        else:
            parse_columns(arg)
        return name, arg
    if name in ("jsonpath-file", "custom-columns-file"):
        if not arg:
            raise UserError(f"{name} needs a file: -o {name}=FILE")
        try:
            content = Path(arg).read_text()
        except OSError as err:
            raise UserError(f"cannot read: {err.strerror}", file=arg) from None
        if name == "jsonpath-file":
            jsonpath.parse(content)
            return "jsonpath", content
        spec = columns_from_file(content, arg)
        parse_columns(spec)
        return "custom-columns", spec
    raise UserError(f"unknown output format {text!r}", hint="use " + ", ".join(FORMATS))


def list_of(items: Sequence[Obj]) -> Obj:
    """kubectl's List around several objects (what ``-o yaml`` and templates see)."""
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}


def columns_from_file(content: str, where: str) -> str:
    """``custom-columns-file``: a line of headers, a line of paths (whitespace-separated)."""
    lines = [ln for ln in content.splitlines() if ln.strip()]
    if len(lines) != 2:
        raise UserError("expected two lines: the column headers, then their paths", file=where)
    headers, paths = lines[0].split(), lines[1].split()
    if len(headers) != len(paths):
        raise UserError(f"{len(headers)} headers but {len(paths)} paths", file=where)
    return ",".join(f"{h}:{p}" for h, p in zip(headers, paths, strict=True))


def _split_columns(spec: str) -> list[str]:
    """Split on commas outside brackets (a path may hold ``[0,1]``)."""
    parts, depth, cur = [], 0, ""
    for c in spec:
        if c in "[{(":
            depth += 1
        elif c in "]})":
            depth -= 1
        if c == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts


def parse_columns(spec: str) -> list[tuple[str, tuple[jsonpath.Node, ...]]]:
    out = []
    for part in _split_columns(spec):
        header, sep, path = part.partition(":")
        if not sep or not header or not path.strip():
            raise UserError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        out.append((header, jsonpath.parse(jsonpath.relaxed(path))))
    return out


def _go_text(value: Any) -> str:
    """A cell as kubectl's ``%v`` prints it: map[k:v], [a b], true, 3."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_text(value[k])}" for k in sorted(value, key=str)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    return str(value)


def custom_columns(spec: str, objs: Sequence[Obj], *, headers: bool = True) -> str:
    """kubectl's custom-columns: one row per object, several values joined by ``,``,
    ``<none>`` when the path finds nothing."""
    from kubeform.store.printers import table

    columns = parse_columns(spec)
    rows = []
    for o in objs:
        row = []
        for _, nodes in columns:
            path = nodes[0] if len(nodes) == 1 else None
            if isinstance(path, jsonpath.Path):
                found = jsonpath.walk(o, path.steps)
                row.append(",".join(_go_text(v) for v in found) if found else "<none>")
            else:
                row.append(jsonpath.render_nodes(nodes, o) or "<none>")
        rows.append(row)
    if not headers:  # widths from the rows alone
        return "".join(table([""] * len(columns), rows).splitlines(keepends=True)[1:])
    return table([h for h, _ in columns], rows)


def names(objs: Sequence[Obj], qualified: dict[str, str]) -> str:
    """``-o name``: ``kind.group/name`` per object (``qualified`` maps kind -> kubectl's name)."""
    return "".join(f"{qualified.get(str(o.get('kind')), str(o.get('kind')).lower())}/{(o.get('metadata') or {}).get('name')}\n"
                   for o in objs)


def jsonpath_text(template: str, objs: Sequence[Obj], single: bool) -> str:
    """``-o jsonpath``: the object itself for one named object, else the List."""
    root = objs[0] if single and len(objs) == 1 else list_of(objs)
    return jsonpath.render(template, root)
