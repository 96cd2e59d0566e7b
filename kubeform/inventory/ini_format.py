"""Ansible's INI inventory form, read line by line as Ansible reads it.

``[group]`` sections list hosts (``name key=value ...``), ``[group:vars]`` set group
variables (``key = value``), ``[group:children]`` name child groups; hosts before any
section are ungrouped; ``#`` and ``;`` start comment lines. Values are parsed like
Ansible does (a Python literal when it is one: ``22`` is an int, ``True`` a bool,
``"a b"`` a string; anything else, ``yes`` included, stays a string), so an inventory
means the same to kubeform as to ansible. Ansible's pending-declaration rule applies:
``[g:vars]`` or a child named in ``[p:children]`` may come before ``[g]``, but a group
that is never defined is an error at the line that used it.
"""

from __future__ import annotations

import ast
import re
import shlex
import warnings
from typing import Any

from kubeform.errors import UserError
from kubeform.inventory.ranges import HostPatternError, expand_host_pattern
from kubeform.inventory.raw import RawInventory, Where
from kubeform.inventory.schema import validate_vars
from kubeform.yamlsrc import LineDict

_SECTION = re.compile(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$")
_CHILD = re.compile(r"^(\S+)\s*(?:[#;].*)?$")
_GROUP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_KINDS = ("hosts", "vars", "children")


def parse_value(text: str) -> Any:
    """An INI value as Ansible reads it: a Python literal if it is one, else the text."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


class _IniParser:
    """One pass over the lines; state = the current section."""

    def __init__(self, text: str, file: str, raw: RawInventory) -> None:
        self.text = text
        self.file = file
        self.raw = raw
        self.defined: set[str] = set(raw.groups)
        # group -> (kind, line) of the first use before its definition
        self.pending: dict[str, tuple[str, int, str]] = {}

    def error(self, message: str, line: int, field: str | None = None) -> UserError:
        return UserError(message, file=self.file, line=line, field=field)

    def define(self, name: str, line: int) -> None:
        self.raw.group(name, Where(self.file, line, f"[{name}]"))
        self.defined.add(name)
        self.pending.pop(name, None)

    def parse(self) -> RawInventory:
        self.raw.group("all", Where(self.file, 1, "all"))
        self.define("ungrouped", 1)
        self.defined.add("all")
        group, kind = "ungrouped", "hosts"
        for number, original in enumerate(self.text.splitlines(), start=1):
            line = original.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                group, kind = self.section(line, number)
            elif kind == "hosts":
                self.host_line(group, line, number)
            elif kind == "vars":
                self.vars_line(group, line, number)
            else:
                self.child_line(group, line, number)
        for name, (used_as, used_at, parent) in self.pending.items():
            if used_as == "vars":
                raise self.error(
                    f"section [{name}:vars] is for a group that is never defined", used_at
                )
            raise self.error(
                f"section [{parent}:children] names group {name!r}, which is never defined",
                used_at,
            )
        return self.raw

    def section(self, line: str, number: int) -> tuple[str, str]:
        match = _SECTION.match(line)
        if not match:
            raise self.error(
                f"invalid section header {line!r} (expected [group], [group:vars] "
                "or [group:children], without spaces)",
                number,
            )
        name, kind = match.group(1), match.group(2) or "hosts"
        if kind not in _KINDS:
            raise self.error(
                f"section [{name}:{kind}] has unknown type {kind!r} (expected vars or children)",
                number,
            )
        if not _GROUP_NAME.match(name):
            raise self.error(
                "invalid group name: use letters, digits, '_', '-' and '.'", number, f"[{name}]"
            )
        if kind == "vars":
            if name not in self.defined and name not in self.pending:
                self.pending[name] = ("vars", number, name)
            self.raw.group(name, Where(self.file, number, f"[{name}:vars]"))
        else:
            self.define(name, number)
        return name, kind

    def host_line(self, group: str, line: str, number: int) -> None:
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError as err:
            raise self.error(f"cannot parse host line: {err}", number) from None
        if not tokens:
            return
        try:
            names, port = expand_host_pattern(tokens[0])
        except HostPatternError as err:
            raise self.error(str(err), number, tokens[0]) from None
        variables = LineDict()
        variables.line = number
        for token in tokens[1:]:
            key, eq, value = token.partition("=")
            if not eq:
                raise self.error(
                    f"expected key=value after the host name, got {token!r}", number, tokens[0]
                )
            variables[key] = parse_value(value)
            variables.key_lines[key] = number
        if port is not None:
            variables["ansible_port"] = port
        validate_vars(variables, self.file, [tokens[0]])
        for host in names:
            self.raw.host(host, dict(variables), Where(self.file, number, tokens[0]))
            self.raw.groups[group].add_host(host)

    def vars_line(self, group: str, line: str, number: int) -> None:
        key, eq, value = line.partition("=")
        if not eq:
            raise self.error(f"expected key=value in [{group}:vars], got {line!r}", number)
        key = key.strip()
        variables = LineDict({key: parse_value(value.strip())})
        variables.line = number
        variables.key_lines[key] = number
        validate_vars(variables, self.file, [f"{group}:vars"])
        self.raw.groups[group].vars.update(variables)

    def child_line(self, group: str, line: str, number: int) -> None:
        match = _CHILD.match(line)
        if not match:
            raise self.error(
                f"expected one group name per line in [{group}:children], got {line!r}", number
            )
        child = match.group(1)
        if not _GROUP_NAME.match(child):
            raise self.error(
                "invalid group name: use letters, digits, '_', '-' and '.'",
                number,
                f"{group}:children.{child}",
            )
        where = Where(self.file, number, f"{group}:children.{child}")
        if child not in self.defined and child not in self.pending:
            self.pending[child] = ("children", number, group)
        self.raw.group(child, where)
        self.raw.groups[group].add_child(child, where)


def parse_ini(text: str, file: str, raw: RawInventory | None = None) -> RawInventory:
    """Record an INI inventory's text into ``raw`` (a new one when not given)."""
    return _IniParser(text, file, raw if raw is not None else RawInventory()).parse()
