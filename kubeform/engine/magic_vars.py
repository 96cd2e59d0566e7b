"""Ansible's magic variables of one host in one play (``inventory_hostname``, ``groups``,
``hostvars``, ``play_hosts``, ``ansible_check_mode``, ``omit``, ``playbook_dir`` ...).

Pure: built from the inventory and the play's hosts. ``MAGIC_NAMES`` is what the static
checks count as always defined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeform.engine import templating
from kubeform.inventory.model import Host, Inventory

MAGIC_NAMES = frozenset(
    {
        "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short",
        "play_hosts", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_check_mode",
        "omit", "playbook_dir", "ansible_facts", "item", "ansible_managed", "role_name", "role_path",
        "ansible_version", "ansible_play_batch", "ansible_config_file",
    }
)  # fmt: skip


ANSIBLE_VERSION = {"full": "2.16.0", "major": 2, "minor": 16, "revision": 0, "string": "2.16.0"}
"""``ansible_version``: the ansible-core release whose behaviour kubeform follows, so
``ansible_version.full is version('2.9', '>=')`` guards hold as they do there."""

ANSIBLE_MANAGED = "Ansible managed"
"""``ansible_managed``'s value (Ansible's default), for the header of templated files."""


def magic_vars(
    host: Host, inventory: Inventory, play_hosts: Sequence[str], hostvars: dict[str, dict[str, Any]],
    check: bool, playbook_dir: str,
) -> dict[str, Any]:  # fmt: skip
    return {
        "inventory_hostname": host.name,
        "inventory_hostname_short": host.name.split(".")[0],
        "group_names": sorted(g for g in host.groups if g != "all"),
        "groups": inventory.groups,
        "hostvars": hostvars,
        "play_hosts": play_hosts,
        "ansible_play_hosts": play_hosts,
        "ansible_play_hosts_all": play_hosts,
        "ansible_check_mode": check,
        "omit": templating.OMIT,
        "playbook_dir": playbook_dir,
        "ansible_managed": ANSIBLE_MANAGED,
        "ansible_version": ANSIBLE_VERSION,
        "ansible_play_batch": play_hosts,
        "ansible_config_file": None,
    }
