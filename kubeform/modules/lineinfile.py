"""lineinfile: make sure one line is in (or out of) a text file, as Ansible does.

The editing rules are Ansible's, line by line (regexp replaces its last match, or the
first with ``firstmatch``; otherwise the line goes after the last ``insertafter`` match
or before the last ``insertbefore`` match, else at EOF; ``backrefs`` never inserts), so
playbooks written for Ansible converge to the same files. The edit is a pure function
of the file's text; the module uploads the result only when its sha256 differs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kubeform.modules._files import (
    WRITE_ARGS,
    FileState,
    file_fact,
    plan_write,
    split_lines,
    str_arg,
)
from kubeform.modules.base import Change, Fact, Module, ModuleArgError

PATH_NAMES = ("path", "dest", "destfile", "name")
SEP = "\n"


@dataclass(frozen=True)
class LineSpec:
    """The validated arguments of one lineinfile task."""

    line: str | None
    regexp: re.Pattern[str] | None
    search_string: str | None
    insertafter: str | None
    insertbefore: str | None
    backrefs: bool
    firstmatch: bool


def _compile(pattern: str, field: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise ModuleArgError(f"invalid regular expression {pattern!r}: {err}", field=field) from err


def _ends_with_sep(line: str) -> bool:
    return line[-1:] in ("\n", "\r")


def present(lines: list[str], spec: LineSpec) -> tuple[list[str], str]:
    """Ansible's ``present()``: returns the new lines and a message ('' = unchanged)."""
    assert spec.line is not None
    lines = list(lines)
    line = spec.line
    ins_re: re.Pattern[str] | None = None
    if spec.insertafter not in (None, "BOF", "EOF"):
        ins_re = _compile(str(spec.insertafter), "insertafter")
    elif spec.insertbefore not in (None, "BOF"):
        ins_re = _compile(str(spec.insertbefore), "insertbefore")

    index = [-1, -1]
    match: re.Match[str] | None = None
    found = False
    if spec.regexp is not None:
        for no, cur in enumerate(lines):
            m = spec.regexp.search(cur)
            if m:
                index[0], match, found = no, m, True
                if spec.firstmatch:
                    break
    if spec.search_string is not None:
        for no, cur in enumerate(lines):
            if spec.search_string in cur:
                index[0], found = no, True
                if spec.firstmatch:
                    break
    if not found:
        for no, cur in enumerate(lines):
            if line == cur.rstrip("\r\n"):
                index[0] = no
            elif ins_re is not None and ins_re.search(cur):
                if spec.insertafter:
                    index[1] = no + 1
                    if spec.firstmatch:
                        break
                if spec.insertbefore:
                    index[1] = no
                    if spec.firstmatch:
                        break

    if index[0] != -1:
        new = match.expand(line) if spec.backrefs and match else line
        if not new.endswith(SEP):
            new += SEP
        if lines[index[0]] != new:
            lines[index[0]] = new
            return lines, "line replaced"
        return lines, ""
    if spec.backrefs:
        return lines, ""  # no match: never insert a line whose backrefs are unfilled
    if spec.insertbefore == "BOF" or spec.insertafter == "BOF":
        lines.insert(0, line + SEP)
        return lines, "line added"
    if spec.insertafter == "EOF" or index[1] == -1:
        if lines and not _ends_with_sep(lines[-1]):
            lines.append(SEP)
        lines.append(line + SEP)
        return lines, "line added"
    if spec.insertafter and index[1] != -1:
        if len(lines) == index[1]:
            if lines[index[1] - 1].rstrip("\r\n") != line:
                if not _ends_with_sep(lines[-1]):
                    lines[-1] += SEP
                lines.append(line + SEP)
                return lines, "line added"
            return lines, ""
        if line != lines[index[1]].rstrip("\n\r"):
            lines.insert(index[1], line + SEP)
            return lines, "line added"
        return lines, ""
    lines.insert(index[1], line + SEP)
    return lines, "line added"


def absent(lines: list[str], spec: LineSpec) -> tuple[list[str], str]:
    """Ansible's ``absent()``: drop every matching line."""
    kept: list[str] = []
    removed = 0
    for cur in lines:
        if spec.regexp is not None:
            hit = bool(spec.regexp.search(cur))
        elif spec.search_string is not None:
            hit = spec.search_string in cur
        else:
            hit = spec.line == cur.rstrip("\r\n")
        if hit:
            removed += 1
        else:
            kept.append(cur)
    return kept, (f"{removed} line(s) removed" if removed else "")


def line_spec(args: Mapping[str, Any]) -> LineSpec:
    """Validate the argument combinations Ansible refuses, with the same wording."""
    state = args.get("state", "present")
    line = str_arg(args, "line", "value")
    regexp = str_arg(args, "regexp", "regex")
    search = args.get("search_string")
    after, before = args.get("insertafter"), args.get("insertbefore")
    backrefs = bool(args.get("backrefs", False))
    if regexp is not None and search is not None:
        raise ModuleArgError("regexp and search_string are mutually exclusive", field="regexp")
    if after is not None and before is not None:
        raise ModuleArgError(
            "insertafter and insertbefore are mutually exclusive", field="insertbefore"
        )
    if state == "present":
        if line is None:
            raise ModuleArgError("line is required with state=present", field="line")
        if backrefs and regexp is None:
            raise ModuleArgError("regexp is required with backrefs=true", field="regexp")
    elif regexp is None and search is None and line is None:
        raise ModuleArgError(
            "one of line, search_string, or regexp is required with state=absent", field="line"
        )
    return LineSpec(
        line=line,
        regexp=_compile(regexp, "regexp") if regexp is not None else None,
        search_string=str(search) if search is not None else None,
        insertafter=str(after) if after is not None else None,
        insertbefore=str(before) if before is not None else None,
        backrefs=backrefs,
        firstmatch=bool(args.get("firstmatch", False)),
    )


def file_path(args: Mapping[str, Any]) -> str:
    path = str_arg(args, *PATH_NAMES)
    if path is None:
        raise ModuleArgError("path is required", field="path")
    return path


def plan_edit(
    args: Mapping[str, Any],
    state: FileState,
    new_text: str | None,
    msg: str,
) -> list[Change]:
    """Shared tail of the text-edit modules: upload ``new_text`` and/or fix attributes.

    ``new_text`` None means "leave the file absent" (nothing to create).
    """
    path = state.path
    if new_text is None:
        return []
    return plan_write(
        path,
        state,
        new_text.encode("utf-8", errors="surrogateescape"),
        args,
        create_parent=True,
        follow=True,
        what=msg,
    )


COMMON_ARGS: dict[str, Any] = {
    **{name: {"type": "string", "minLength": 1} for name in PATH_NAMES},
    "state": {"enum": ["present", "absent"]},
    "insertafter": {"type": "string"},
    "insertbefore": {"type": "string"},
    "create": {"type": "boolean"},
    **WRITE_ARGS,
}


class LineInFile(Module):
    """Ansible's lineinfile (path, line, regexp, search_string, insertafter/before, ...)."""

    name: ClassVar[str] = "lineinfile"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON_ARGS,
            "line": {"type": ["string", "number"]},
            "value": {"type": ["string", "number"]},
            "regexp": {"type": "string"},
            "regex": {"type": "string"},
            "search_string": {"type": "string"},
            "backrefs": {"type": "boolean"},
            "firstmatch": {"type": "boolean"},
        },
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(file_path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = file_path(args)
        spec = line_spec(args)
        state: FileState = facts[f"file:{path}"]
        want_present = args.get("state", "present") == "present"
        if not state.exists:
            if not want_present:
                return []
            if not args.get("create", False):
                raise ModuleArgError(f"Destination {path} does not exist !", field="path")
        if state.exists and not state.is_file:
            raise ModuleArgError(
                f"{path} is a {state.target_kind or state.kind}, not a file", field="path"
            )
        lines = split_lines(state.text())
        new, msg = present(lines, spec) if want_present else absent(lines, spec)
        if not state.exists and spec.backrefs and not msg:
            return []
        return plan_edit(args, state, "".join(new), msg)
