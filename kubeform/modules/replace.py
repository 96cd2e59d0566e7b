"""replace: every match of a regular expression in a file replaced (Ansible's ``replace``).

Python's ``re`` with MULTILINE, as Ansible uses it: ``^``/``$`` match at every line,
backreferences ``\\1`` and ``\\g<name>`` work in ``replace``. ``after``/``before`` limit
the edit to the text after the first match of one and before the first match of the
other. A missing file is an error (Ansible: "Path ... does not exist"). The new content is
computed here, on the controller, from the file's content fact; the host only receives it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import WRITE_ARGS, FileState, file_fact, str_arg
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult
from kubeform.modules.lineinfile import plan_edit

PATH_NAMES = ("path", "dest", "destfile", "name")


def _compile(pattern: str, field: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.MULTILINE)
    except re.error as err:
        raise ModuleArgError(f"{field} is not a valid regular expression: {err}", field=field) from None


def replaced(text: str, regexp: str, replacement: str, after: str | None = None, before: str | None = None) -> tuple[str, int]:
    """The text with every match replaced inside the after/before section, and the count."""
    start, end = 0, len(text)
    if after:
        m = _compile(after, "after").search(text)
        if m is None:
            return text, 0
        start = m.end()
    if before:
        m = _compile(before, "before").search(text, start)
        if m is None:
            return text, 0
        end = m.start()
    try:
        section, count = _compile(regexp, "regexp").subn(replacement, text[start:end])
    except (re.error, IndexError) as err:
        raise ModuleArgError(f"replace: {err}", field="replace") from None
    return text[:start] + section + text[end:], count


class Replace(Module):
    """Ansible's replace (path, regexp, replace, after, before, backup, mode, ...)."""

    name: ClassVar[str] = "replace"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **{name: {"type": "string", "minLength": 1} for name in PATH_NAMES},
            "regexp": {"type": "string"},
            "replace": {"type": ["string", "number"]},
            "after": {"type": "string"},
            "before": {"type": "string"},
            "encoding": {"enum": ["utf-8", "UTF-8", "utf8"]},
            "others": {"type": "object"},
            **WRITE_ARGS,
        },
        "required": ["regexp"],
        "additionalProperties": False,
    }

    @staticmethod
    def _path(args: Mapping[str, Any]) -> str:
        path = str_arg(args, *PATH_NAMES)
        if path is None:
            raise ModuleArgError("path is required", field="path")
        return path

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(self._path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = self._path(args)
        state: FileState = facts[f"file:{path}"]
        if not state.exists:
            raise ModuleArgError(f"Path {path} does not exist !", field="path")
        if not state.is_file:
            raise ModuleArgError(f"{path} is a {state.target_kind or state.kind}, not a file", field="path")
        text = state.text()
        new, count = replaced(text, str(args["regexp"]), str(args.get("replace", "")), args.get("after"), args.get("before"))
        msg = f"{count} replacement{'s' if count != 1 else ''} made" if new != text else ""
        return plan_edit(args, state, new, msg)

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {}
