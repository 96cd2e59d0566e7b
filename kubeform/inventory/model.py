"""The loaded inventory: hosts with their merged variables, and groups.

Loaders (YAML and INI, Ansible-compatible) produce this model; the engine, the
transports and the lab read it. Connection settings use Ansible's variable names so
existing inventories work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubeform.errors import UserError, shorten

# kubespray's group names, accepted as aliases of kubeform's roles.
ROLE_ALIASES: dict[str, str] = {
    "kube_control_plane": "masters",
    "kube-master": "masters",
    "kube_node": "nodes",
    "kube-node": "nodes",
    "etcd": "etcd",
    "k8s_cluster": "cluster",
    "k8s-cluster": "cluster",
}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "yes", "true", "on", "y"}
    return bool(value)


@dataclass
class Host:
    """One inventory host; ``vars`` are merged (all < parent groups < child groups < host)."""

    name: str
    vars: dict[str, Any] = field(default_factory=dict)
    groups: list[str] = field(default_factory=list)
    # The host's own variables (its inventory entry and host_vars/), also inside ``vars``:
    # a playbook's group_vars/ rank above the inventory's groups but below these.
    own_vars: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return str(self.vars.get("ansible_host") or self.vars.get("ansible_ssh_host") or self.name)

    @property
    def port(self) -> int:
        value = self.vars.get("ansible_port") or self.vars.get("ansible_ssh_port") or 22
        try:
            return int(value)
        except (TypeError, ValueError):  # a template nobody rendered (see engine.connection_vars)
            raise UserError(f"ansible_port must be an integer, got {shorten(value)}", field=self.name) from None

    @property
    def user(self) -> str:
        return str(self.vars.get("ansible_user") or self.vars.get("ansible_ssh_user") or "root")

    @property
    def key_file(self) -> str | None:
        key = self.vars.get("ansible_ssh_private_key_file") or self.vars.get(
            "ansible_private_key_file"
        )
        return str(key) if key else None

    @property
    def password(self) -> str | None:
        pw = self.vars.get("ansible_password") or self.vars.get("ansible_ssh_pass")
        return str(pw) if pw else None

    @property
    def connection(self) -> str:
        """``ssh`` (default) or ``local``."""
        return str(self.vars.get("ansible_connection") or "ssh")

    @property
    def become(self) -> bool:
        return _truthy(self.vars.get("ansible_become", False))

    @property
    def become_user(self) -> str:
        return str(self.vars.get("ansible_become_user") or "root")

    @property
    def become_password(self) -> str | None:
        pw = self.vars.get("ansible_become_password") or self.vars.get("ansible_become_pass")
        return str(pw) if pw else None

    @property
    def known_hosts_file(self) -> str | None:
        """kubeform extension: a known_hosts file for this host (the lab records its own)."""
        kh = self.vars.get("kubeform_known_hosts_file")
        return str(kh) if kh else None

    @property
    def roles(self) -> set[str]:
        """kubeform roles (masters, nodes, etcd) from group names and kubespray aliases."""
        return {ROLE_ALIASES.get(g, g) for g in self.groups} & {"masters", "nodes", "etcd"}


@dataclass
class Inventory:
    """All hosts and groups. ``groups`` maps every group to its hosts (children included)."""

    hosts: dict[str, Host] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    source: str = "<inventory>"
    # Where each host was first declared (file, line, field), for error messages.
    where: dict[str, tuple[str, int | None, str | None]] = field(default_factory=dict)
