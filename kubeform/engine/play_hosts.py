"""The hosts of a play as the run sees them: variables beside the playbook, ``serial``
batches and ``remote_user``.

``group_vars/`` and ``host_vars/`` beside the playbook are read as Ansible reads them
(after the inventory's own: group files by group depth, ``all`` first, then the host's
file); they rank above the inventory's variables and below the play's. ``serial`` splits
a play's hosts into batches run one after the other (a number, a percentage, or a list of
them, the last repeating). A play's ``remote_user`` applies to hosts whose inventory
names no ``ansible_user``. Pure, but for reading the vars files.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubeform.errors import UserError
from kubeform.inventory.model import Host, Inventory
from kubeform.inventory.vars_files import load_vars_file, vars_files_for


def _group_depths(inventory: Inventory) -> dict[str, int]:
    depth = {"all": 0}
    frontier = ["all"]
    while frontier:
        nxt = []
        for g in frontier:
            for child in inventory.children.get(g, []):
                if depth.get(child, -1) < depth[g] + 1 and depth[g] < 100:
                    depth[child] = depth[g] + 1
                    nxt.append(child)
        frontier = nxt
    return depth


def playbook_vars(base_dir: Path, inventory: Inventory) -> dict[str, dict[str, Any]]:
    """Each host's variables from ``group_vars/`` and ``host_vars/`` beside the playbook."""
    out: dict[str, dict[str, Any]] = {}
    for name, (every, groups, own) in playbook_var_layers(base_dir, inventory).items():
        merged = {**every, **groups, **own}
        if merged:
            out[name] = merged
    return out


VarLayers = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
"""A host's variables beside the playbook: (group_vars/all, its other groups, host_vars)."""


def playbook_var_layers(base_dir: Path, inventory: Inventory) -> dict[str, VarLayers]:
    """Each host's ``group_vars/`` (``all`` apart from its other groups) and ``host_vars/``
    beside the playbook, kept apart so they interleave with the inventory's as in Ansible."""
    gdir, hdir = base_dir / "group_vars", base_dir / "host_vars"
    if not gdir.is_dir() and not hdir.is_dir():
        return {}
    depth = _group_depths(inventory)
    group_vars: dict[str, dict[str, Any]] = {}
    for group in inventory.groups:
        merged: dict[str, Any] = {}
        for f in vars_files_for(gdir, group):
            merged.update(load_vars_file(f))
        if merged:
            group_vars[group] = merged
    layers: dict[str, VarLayers] = {}
    for name, host in inventory.hosts.items():
        groups: dict[str, Any] = {}
        for group in sorted(set(host.groups) - {"all"}, key=lambda g: (depth.get(g, 1), g)):
            groups.update(group_vars.get(group, {}))
        own: dict[str, Any] = {}
        for f in vars_files_for(hdir, name):
            own.update(load_vars_file(f))
        every = dict(group_vars.get("all", {}))
        if every or groups or own:
            layers[name] = (every, groups, own)
    return layers


def serial_batches(hosts: Sequence[Host], serial: Any) -> list[list[Host]]:
    """The play's hosts in ``serial`` batches (all at once without ``serial``)."""
    if serial in (None, "", 0, "0") or not hosts:
        return [list(hosts)]
    sizes = serial if isinstance(serial, list) else [serial]
    out: list[list[Host]] = []
    rest = list(hosts)
    i = 0
    while rest:
        size = _batch_size(sizes[min(i, len(sizes) - 1)], len(hosts))
        out.append(rest[:size])
        rest = rest[size:]
        i += 1
    return out


def _batch_size(value: Any, total: int) -> int:
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return max(1, math.floor(total * float(text[:-1]) / 100))
        return max(1, int(text))
    except ValueError:
        raise UserError(f"serial must be a number or a percentage, got {value!r}", field="serial") from None


def with_remote_user(host: Host, user: str | None) -> Host:
    """The host with the play's ``remote_user`` unless its inventory names a user."""
    if not user or "ansible_user" in host.vars or "ansible_ssh_user" in host.vars:
        return host
    return replace(host, vars={**host.vars, "ansible_user": user})


def add_groups(inventory: Inventory, new_groups: Mapping[str, tuple[set[str], set[str]]]) -> bool:
    """``group_by``'s groups joined into the inventory (in place), for the later plays.

    A new group goes under its parents (``all`` needs no entry); its hosts join every
    parent too. Returns whether anything changed.
    """
    changed = False
    for group, (members, parents) in sorted(new_groups.items()):
        for name in sorted(members):
            for g in [group, *sorted(p for p in parents if p != "all")]:
                hosts = inventory.groups.setdefault(g, [])
                if name not in hosts:
                    hosts.append(name)
                    changed = True
                host = inventory.hosts.get(name)
                if host is not None and g not in host.groups:
                    host.groups.append(g)
        for parent in parents:
            if parent != "all" and group not in inventory.children.setdefault(parent, []):
                inventory.children[parent].append(group)
    return changed
