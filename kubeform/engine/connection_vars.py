"""Connection variables rendered before connecting: ``ansible_port: '{{ ssh_port }}'``.

Ansible templates a host's connection settings with the host's variables (and the
extra vars, which win) before it connects, so inventories write ``ansible_host: '{{
ip }}'`` or ``ansible_port: '{{ ssh_port }}'``. This renders those settings once per run,
checks the results (a port 1-65535, an address that is an IP or a DNS name) and names the
host and field of a mistake before any host is touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeform.engine import templating
from kubeform.errors import UserError, cut, shorten
from kubeform.inventory.hostnames import address_problem
from kubeform.inventory.model import Host, Inventory

# Settings the transport reads; every other variable is rendered when a task uses it.
CONNECTION_VARS = (
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_connection",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
)
PORT_VARS = ("ansible_port", "ansible_ssh_port")


def _port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 65535 else None
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 5:
        return _port(int(value.strip()))
    return None


def resolve_host(host: Host, extra_vars: Mapping[str, Any], where: tuple[str, int | None, str | None]) -> None:
    """Render ``host``'s templated connection variables in place and check them.

    ``where`` is the host's declaration (file, line, field) in the inventory; a mistake
    in a variable is reported there, under the variable's name.
    """
    source, line, declared = where
    base = declared or host.name
    variables: dict[str, Any] = {
        **host.vars,
        "inventory_hostname": host.name,
        "inventory_hostname_short": host.name.split(".")[0],
        "group_names": sorted(g for g in host.groups if g != "all"),
        **extra_vars,
    }
    for name in CONNECTION_VARS:
        value = extra_vars.get(name, host.vars.get(name))
        if value is None:
            continue
        field = f"{base}.{name}"
        if templating.is_template(value):
            try:
                value = templating.render_string(value, variables)
            except UserError as err:
                raise err.located(file=source, line=line, field=field) from None
        if name in PORT_VARS:
            port = _port(value)
            if port is None:
                raise UserError(f"must be an integer from 1 to 65535, got {shorten(value)}", file=source, line=line, field=field)
            value = port
        host.vars[name] = value
        if name in host.own_vars:  # the host's own layer ranks higher: it must hold the rendered value too
            host.own_vars[name] = value
    if host.connection != "local":
        problem = address_problem(host.address)
        if problem is not None:
            field = f"{base}.ansible_host" if host.address != host.name else cut(base)
            raise UserError(problem, file=source, line=line, field=field)


def resolve_connection_vars(inventory: Inventory, extra_vars: Mapping[str, Any], names: list[str] | None = None) -> None:
    """``resolve_host`` for every host of ``inventory`` (or only those in ``names``)."""
    for host in inventory.hosts.values():
        if names is None or host.name in names:
            resolve_host(host, extra_vars, inventory.where.get(host.name, (inventory.source, None, None)))
