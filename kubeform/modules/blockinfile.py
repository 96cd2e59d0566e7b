"""blockinfile: keep a block of lines between two marker lines, as Ansible does.

The markers default to ``# BEGIN KUBEFORM MANAGED BLOCK`` / ``# END ...`` (set
``marker`` to Ansible's ``# {mark} ANSIBLE MANAGED BLOCK`` to take over blocks an
Ansible run wrote). Placement follows Ansible: an existing block is replaced in place;
otherwise after the last ``insertafter`` match (default EOF) or before the last
``insertbefore`` match (BOF = top), falling back to the end of the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, split_lines, str_arg
from kubeform.modules.base import Change, Fact, Module, ModuleArgError
from kubeform.modules.lineinfile import COMMON_ARGS, file_path, plan_edit

DEFAULT_MARKER = "# {mark} KUBEFORM MANAGED BLOCK"
SEP = "\n"


def edit_block(
    lines: list[str],
    block: str,
    *,
    present: bool,
    marker: str,
    marker_begin: str = "BEGIN",
    marker_end: str = "END",
    insertafter: str | None = None,
    insertbefore: str | None = None,
    prepend_newline: bool = False,
    append_newline: bool = False,
) -> tuple[list[str], str]:
    """Ansible's block placement on a list of lines; returns new lines and a message.

    ``prepend_newline``/``append_newline`` (ansible-core 2.16) keep an empty line between
    the block and a non-empty neighbour; an existing empty line is reused, so a second
    run finds nothing to add.
    """
    lines = list(lines)
    if insertafter is None and insertbefore is None:
        insertafter = "EOF"
    ins_re: re.Pattern[str] | None = None
    try:
        if insertafter not in (None, "EOF"):
            ins_re = re.compile(str(insertafter))
        elif insertbefore not in (None, "BOF"):
            ins_re = re.compile(str(insertbefore))
    except re.error as err:
        field = "insertafter" if insertafter not in (None, "EOF") else "insertbefore"
        raise ModuleArgError(f"invalid regular expression: {err}", field=field) from err
    marker0 = marker.replace("{mark}", marker_begin) + SEP
    marker1 = marker.replace("{mark}", marker_end) + SEP
    if present and block:
        if not block.endswith(("\r", "\n")):
            block += SEP
        blocklines = [marker0, *split_lines(block), marker1]
    else:
        blocklines = []

    n0 = n1 = None
    for i, line in enumerate(lines):
        if line == marker0:
            n0 = i
        if line == marker1:
            n1 = i
    if n0 is None or n1 is None:
        n0 = None
        if ins_re is not None:
            for i, line in enumerate(lines):
                if ins_re.search(line):
                    n0 = i
            if n0 is None:
                n0 = len(lines)
            elif insertafter is not None:
                n0 += 1
        elif insertbefore is not None:
            n0 = 0  # BOF
        else:
            n0 = len(lines)  # EOF
    elif n0 < n1:
        lines[n0 : n1 + 1] = []
    else:
        lines[n1 : n0 + 1] = []
        n0 = n1
    if n0 > 0 and not lines[n0 - 1].endswith(SEP):
        lines[n0 - 1] += SEP
    if blocklines and append_newline and n0 < len(lines) and lines[n0].strip():
        blocklines.append(SEP)
    if blocklines and prepend_newline and n0 > 0 and lines[n0 - 1].strip():
        blocklines.insert(0, SEP)
    lines[n0:n0] = blocklines
    return lines, ("block inserted" if blocklines else "block removed")


class BlockInFile(Module):
    """Ansible's blockinfile (path, block, marker, state, insertafter/before, create)."""

    name: ClassVar[str] = "blockinfile"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON_ARGS,
            "block": {"type": "string"},
            "content": {"type": "string"},
            "marker": {"type": "string", "pattern": "\\{mark\\}"},
            "marker_begin": {"type": "string"},
            "marker_end": {"type": "string"},
            "prepend_newline": {"type": "boolean"},
            "append_newline": {"type": "boolean"},
        },
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(file_path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = file_path(args)
        if args.get("insertafter") is not None and args.get("insertbefore") is not None:
            raise ModuleArgError(
                "insertafter and insertbefore are mutually exclusive", field="insertbefore"
            )
        state: FileState = facts[f"file:{path}"]
        present = args.get("state", "present") == "present"
        if not state.exists:
            if not present:
                return []
            if not args.get("create", False):
                raise ModuleArgError(f"Path {path} does not exist !", field="path")
        if state.exists and not state.is_file:
            raise ModuleArgError(
                f"{path} is a {state.target_kind or state.kind}, not a file", field="path"
            )
        original = state.text()
        new, msg = edit_block(
            split_lines(original),
            str_arg(args, "block", "content") or "",
            present=present,
            marker=str(args.get("marker", DEFAULT_MARKER)),
            marker_begin=str(args.get("marker_begin", "BEGIN")),
            marker_end=str(args.get("marker_end", "END")),
            insertafter=args.get("insertafter"),
            insertbefore=args.get("insertbefore"),
            prepend_newline=bool(args.get("prepend_newline", False)),
            append_newline=bool(args.get("append_newline", False)),
        )
        return plan_edit(args, state, "".join(new), msg)
