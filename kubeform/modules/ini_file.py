"""ini_file (community.general.ini_file): options of an INI file, edited in place.

The edit is computed here from the file's content fact, line by line as Ansible's module
does it, so comments and layout survive: in the section, the first line setting the
option (or, with ``modify_inactive_option``, a commented-out ``#option = x``) is
rewritten as ``option = value`` (``option=value`` with ``no_extra_spaces``); with
``exclusive`` (the default) other lines setting it are dropped (without it they
stay and missing values are added); a missing option is
added after the section's last line, a missing section at the end of the file.
``section: null`` means the lines before the first section. ``values`` sets one line
per value; ``state: absent`` removes the option (only the given values, if any) or,
without ``option``, the whole section.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from kubeform.modules._files import WRITE_ARGS, FileState, file_fact, plan_write, split_lines
from kubeform.modules.base import Change, Fact, Module, ModuleArgError

_SECTION = re.compile(r"^\s*\[([^\]]*)\]")


def _option_re(option: str, inactive: bool) -> re.Pattern[str]:
    comment = r"[#;]?" if inactive else ""
    return re.compile(rf"^[ \t]*{comment}[ \t]*({re.escape(option)})[ \t]*(=|$)[ \t]*(.*)$")


def _value_of(line: str, option: str) -> str | None:
    m = _option_re(option, False).match(line.rstrip("\n"))
    return m.group(3).strip() if m else None


def _bounds(lines: Sequence[str], section: str | None) -> tuple[int, int] | None:
    """[start, end) of the section's body (after its header); None when it is missing."""
    if section is None:
        end = next((i for i, ln in enumerate(lines) if _SECTION.match(ln)), len(lines))
        return 0, end
    for i, ln in enumerate(lines):
        m = _SECTION.match(ln)
        if m and m.group(1).strip() == section:
            end = next((j for j in range(i + 1, len(lines)) if _SECTION.match(lines[j])), len(lines))
            return i + 1, end
    return None


def edit_ini(text: str, args: Mapping[str, Any]) -> str:
    """The file's text with the task's options set or removed."""
    section = args.get("section")
    section = None if section in (None, "") else str(section)
    option = args.get("option")
    present = args.get("state", "present") == "present"
    lines = split_lines(text)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    bounds = _bounds(lines, section)
    if option is None:
        if present:
            if bounds is None and section is not None:
                lines.append(f"[{section}]\n")
            return "".join(lines)
        if bounds is None or section is None:
            return "".join(lines)
        start, end = bounds
        return "".join(lines[: start - 1] + lines[end:])
    option = str(option)
    values = [str(v) for v in args.get("values") or []]
    if not values and args.get("value") is not None:
        values = [str(args["value"])]
    eq = "=" if args.get("no_extra_spaces") else " = "

    def fmt(value: str | None) -> str:
        return f"{option}\n" if value is None else f"{option}{eq}{value}\n"

    if not present:
        if bounds is None:
            return "".join(lines)
        start, end = bounds
        keep = [
            ln for ln in lines[start:end]
            if _value_of(ln, option) is None or (values and _value_of(ln, option) not in values)
        ]  # fmt: skip
        return "".join(lines[:start] + keep + lines[end:])
    wanted: list[str | None] = list(values) if values else ([None] if args.get("allow_no_value") else [])
    if not wanted:
        raise ModuleArgError("value is required with state=present (or allow_no_value: true)", field="value")
    if bounds is None:
        if lines and lines[-1].strip():
            lines.append("\n")
        return "".join(lines + [f"[{section}]\n"] + [fmt(v) for v in wanted])
    start, end = bounds
    body = lines[start:end]
    exclusive = args.get("exclusive", True)
    inactive = args.get("modify_inactive_option", True)
    present_values = {_value_of(ln, option) for ln in body}
    todo = [v for v in wanted if v not in present_values]
    kept: set[str | None] = set()
    out: list[str] = []
    for ln in body:
        active = _value_of(ln, option)
        if active is not None:
            if active in wanted and active not in kept:
                kept.add(active)  # already set: kept as written with ignore_spaces, else reformatted
                out.append(ln if args.get("ignore_spaces") or ln == fmt(active) else fmt(active))
            elif not exclusive:
                out.append(ln)  # other values stay; the missing ones are added below
            elif todo:
                out.append(fmt(todo.pop(0)))
            continue
        if inactive and todo and _option_re(option, True).match(ln.rstrip("\n")):
            out.append(fmt(todo.pop(0)))
            continue
        out.append(ln)
    if todo:
        last = max((i for i, ln in enumerate(out) if ln.strip()), default=-1)
        out[last + 1 : last + 1] = [fmt(v) for v in todo]
    return "".join(lines[:start] + out + lines[end:])


class IniFile(Module):
    """Ansible's ini_file: path, section, option, value, values, state, exclusive, ..."""

    name: ClassVar[str] = "ini_file"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "dest": {"type": "string", "minLength": 1},
            "section": {"type": ["string", "null"]},
            "option": {"type": "string", "minLength": 1},
            "value": {"type": ["string", "number", "boolean"]},
            "values": {"type": "array", "items": {"type": ["string", "number", "boolean"]}},
            "state": {"enum": ["present", "absent"]},
            "exclusive": {"type": "boolean"},
            "no_extra_spaces": {"type": "boolean"},
            "ignore_spaces": {"type": "boolean"},
            "allow_no_value": {"type": "boolean"},
            "modify_inactive_option": {"type": "boolean"},
            "create": {"type": "boolean"},
            "follow": {"type": "boolean"},
            **WRITE_ARGS,
        },
        "additionalProperties": False,
    }

    @staticmethod
    def _path(args: Mapping[str, Any]) -> str:
        path = args.get("path") or args.get("dest")
        if not path:
            raise ModuleArgError("path is required", field="path")
        return str(path)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(self._path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = self._path(args)
        state: FileState = facts[f"file:{path}"]
        if not state.exists:
            if args.get("state", "present") == "absent":
                return []
            if args.get("create") is False:
                raise ModuleArgError(f"Destination {path} does not exist !", field="path")
        if isinstance(args.get("value"), bool):
            args = {**args, "value": "True" if args["value"] else "False"}
        new = edit_ini(state.text(), args)
        what = " ".join(w for w in (f"[{args['section']}]" if args.get("section") else "", str(args.get("option") or "")) if w)
        return plan_write(path, state, new.encode(), args, create_parent=True, follow=bool(args.get("follow")), what=what)
