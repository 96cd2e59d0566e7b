"""What a parsed inventory source says, before groups are resolved and vars merged.

Both parsers (YAML and INI) only record facts as written: which hosts a group lists
directly, which child groups it names, its vars, and where each came from. Resolving
ancestry, detecting cycles and merging variables with Ansible's precedence happens once,
in ``build``, so the two formats cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Where:
    """A place in a source file, for error messages."""

    file: str
    line: int | None = None
    field: str | None = None


@dataclass
class RawGroup:
    """One group as written: direct hosts, named children, its own vars."""

    name: str
    where: Where
    hosts: list[str] = field(default_factory=list)
    children: list[tuple[str, Where]] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)

    def add_host(self, host: str) -> None:
        """List ``host`` directly in this group (once)."""
        if host not in self.hosts:
            self.hosts.append(host)

    def add_child(self, child: str, where: Where) -> None:
        """Name ``child`` as a child group (once; the first place is kept for errors)."""
        if all(name != child for name, _ in self.children):
            self.children.append((child, where))


@dataclass
class RawInventory:
    """Every group and host of one or more sources, in the order first written."""

    hosts: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, RawGroup] = field(default_factory=dict)
    host_where: dict[str, Where] = field(default_factory=dict)  # first declaration

    def group(self, name: str, where: Where) -> RawGroup:
        """The group called ``name``, created (remembering ``where``) on first mention."""
        if name not in self.groups:
            self.groups[name] = RawGroup(name=name, where=where)
        return self.groups[name]

    def host(self, name: str, variables: dict[str, Any] | None = None, where: Where | None = None) -> None:
        """Declare ``name`` (inventory order = first declaration); later vars win."""
        if where is not None:
            self.host_where.setdefault(name, where)
        merged = self.hosts.setdefault(name, {})
        if variables:
            merged.update(variables)
