"""From what the sources say (``RawInventory``) to the resolved ``Inventory``.

This is where Ansible's semantics live, once for both formats:

* every group without a parent is a child of ``all``; a host in no group but ``all`` is
  in ``ungrouped`` (and leaves it as soon as it is in another group);
* a group that is its own ancestor is an error at the line that closes the loop;
* a group's depth is its longest distance from ``all``; groups of equal depth are taken
  alphabetically;
* variables merge as Ansible's default precedence says (later wins, whole values
  replaced): ``all``'s inventory vars < other groups' inventory vars by depth <
  ``group_vars/all`` < other ``group_vars/<group>`` by depth < the host's inventory
  vars < ``host_vars/<host>``;
* kubespray's group names and kubeform's answer for each other (``masters`` is
  ``kube_control_plane`` when only one of them is written, and so on).

Pure: no file is read here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from kubeform.errors import UserError
from kubeform.inventory.model import ROLE_ALIASES, Host, Inventory
from kubeform.inventory.raw import RawInventory, Where

VarsLayers = Mapping[str, Sequence[Mapping[str, Any]]]


def _check_cycles(raw: RawInventory) -> None:
    """Raise at the edge that makes a group its own ancestor."""
    done: set[str] = set()

    def visit(name: str, stack: list[str]) -> None:
        if name in done:
            return
        for child, where in raw.groups[name].children:
            if child in stack or child == name:
                loop = [*stack[stack.index(child) :], child] if child in stack else [name, child]
                raise UserError(
                    f"group {child!r} is its own ancestor ({' -> '.join(loop)})",
                    file=where.file,
                    line=where.line,
                    field=where.field,
                )
            visit(child, [*stack, child])
        done.add(name)

    for name in list(raw.groups):
        visit(name, [name])


def _parents(raw: RawInventory) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {name: [] for name in raw.groups}
    for name, group in raw.groups.items():
        for child, _ in group.children:
            parents[child].append(name)
    return parents


def _depths(parents: Mapping[str, Sequence[str]]) -> dict[str, int]:
    depths: dict[str, int] = {}

    def depth(name: str) -> int:
        if name not in depths:
            depths[name] = 1 + max((depth(p) for p in parents[name]), default=-1)
        return depths[name]

    for name in parents:
        depth(name)
    return depths


def _ancestors(name: str, parents: Mapping[str, Sequence[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(parents[name])
    while todo:
        parent = todo.pop()
        if parent not in seen:
            seen.add(parent)
            todo.extend(parents[parent])
    return seen


def _alias_classes() -> list[list[str]]:
    """Names that mean the same role, e.g. [masters, kube_control_plane, kube-master]."""
    classes: dict[str, list[str]] = {}
    for alias, role in ROLE_ALIASES.items():
        names = classes.setdefault(role, [role])
        if alias not in names:
            names.append(alias)
    return list(classes.values())


def build_inventory(
    raw: RawInventory,
    source: str,
    group_files: VarsLayers | None = None,
    host_files: VarsLayers | None = None,
) -> Inventory:
    """Resolve groups and merge variables (see the module docstring for the rules)."""
    group_files = group_files or {}
    host_files = host_files or {}
    raw.group("all", Where(source))
    raw.group("ungrouped", Where(source))
    _check_cycles(raw)
    parents = _parents(raw)
    for name in raw.groups:
        if name != "all" and not parents[name]:
            raw.groups["all"].add_child(name, Where(source))
            parents[name].append("all")
    depths = _depths(parents)

    def rank(name: str) -> tuple[int, str]:
        return depths[name], name

    direct: dict[str, set[str]] = {host: set() for host in raw.hosts}
    for name, group in raw.groups.items():
        for host in group.hosts:
            direct[host].add(name)
    hosts: dict[str, Host] = {}
    for host, host_vars in raw.hosts.items():
        own = direct[host] - {"all", "ungrouped"}
        if not own:
            own = {"ungrouped"}
        member = {"all", *own}
        for name in own:
            member |= _ancestors(name, parents)
        groups = sorted(member, key=rank)
        merged: dict[str, Any] = {}
        for name in groups:
            merged.update(raw.groups[name].vars)
        for name in groups:
            for layer in group_files.get(name, ()):
                merged.update(layer)
        own_vars: dict[str, Any] = dict(host_vars)
        for layer in host_files.get(host, ()):
            own_vars.update(layer)
        merged.update(own_vars)
        hosts[host] = Host(name=host, vars=copy.deepcopy(merged), groups=groups, own_vars=copy.deepcopy(own_vars))

    order = ["all", "ungrouped", *(n for n in raw.groups if n not in ("all", "ungrouped"))]
    members: dict[str, list[str]] = {name: [] for name in order}
    for entry in hosts.values():
        for name in entry.groups:
            members[name].append(entry.name)
    for names in _alias_classes():
        written = [n for n in names if n in members]
        if not written:
            continue
        union = {h for n in written for h in members[n]}
        ordered = [h for h in hosts if h in union]
        for alias in names:
            if alias not in members:
                members[alias] = ordered
                for h in ordered:
                    hosts[h].groups.append(alias)
    children = {name: [c for c, _ in raw.groups[name].children] for name in order}
    where = {h: (w.file, w.line, w.field) for h, w in raw.host_where.items()}
    return Inventory(hosts=hosts, groups=members, children=children, source=source, where=where)
