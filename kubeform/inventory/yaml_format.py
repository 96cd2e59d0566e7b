"""Ansible's YAML inventory form: ``all:`` with ``hosts:``, ``children:`` and ``vars:``.

The data is first checked against the inventory schema (so every shape or type mistake
is reported with its file, line and field), then walked into a ``RawInventory``. As in
Ansible, top-level keys are groups (normally just ``all``; other top-level groups are
children of ``all``), a group may be mentioned in several places (its hosts, children
and vars accumulate), and host keys may be ranges or carry a ``:port``.
"""

from __future__ import annotations

from typing import Any

from kubeform.errors import UserError
from kubeform.inventory.ranges import HostPatternError, expand_host_pattern
from kubeform.inventory.raw import RawInventory, Where
from kubeform.inventory.schema import validate_inventory
from kubeform.yamlsrc import field_path, line_of


def _walk_group(
    raw: RawInventory,
    name: str,
    body: Any,
    parent: str | None,
    where: Where,
    path: list[str],
) -> None:
    group = raw.group(name, where)
    if parent is not None:
        raw.group(parent, where).add_child(name, where)
    if not body:
        return
    hosts = body.get("hosts") or {}
    for pattern, host_vars in hosts.items():
        host_path = [*path, "hosts", str(pattern)]
        try:
            names, port = expand_host_pattern(str(pattern))
        except HostPatternError as err:
            raise UserError(
                str(err), file=where.file, line=line_of(hosts, pattern), field=field_path(host_path)
            ) from None
        variables = dict(host_vars or {})
        if port is not None:
            variables["ansible_port"] = port
        for host in names:
            raw.host(host, variables, Where(where.file, line_of(hosts, pattern), field_path(host_path)))
            group.add_host(host)
    group.vars.update(body.get("vars") or {})
    children = body.get("children") or {}
    for child, child_body in children.items():
        child_where = Where(
            where.file, line_of(children, child), field_path([*path, "children", child])
        )
        _walk_group(raw, str(child), child_body, name, child_where, [*path, "children", child])


def parse_yaml(data: Any, file: str, raw: RawInventory | None = None) -> RawInventory:
    """Record a loaded YAML inventory (LineDict from kubeform.yamlsrc) into ``raw``."""
    raw = raw if raw is not None else RawInventory()
    validate_inventory(data, file)
    for name, body in (data or {}).items():
        where = Where(file, line_of(data, name), str(name))
        # Like Ansible, a top-level group is a child of ``all`` only if nothing else
        # claims it (build attaches parentless groups to ``all``).
        _walk_group(raw, str(name), body, None, where, [str(name)])
    return raw
