"""Ansible-compatible inventories: loading (YAML, INI, vars directories) and host patterns.

The engine, the transports and the lab need one thing from an inventory: hosts with
their merged variables and the groups they belong to. ``load_inventory`` produces that
model from any inventory an Ansible user already has; ``select`` answers host patterns
(``masters:&etcd``, ``web*``, ``all:!db1``) the way ``hosts:`` and ``--limit`` do in
Ansible.
"""

from __future__ import annotations

from kubeform.inventory.loader import load_inventory
from kubeform.inventory.model import ROLE_ALIASES, Host, Inventory
from kubeform.inventory.patterns import select, unmatched

__all__ = ["ROLE_ALIASES", "Host", "Inventory", "load_inventory", "select", "unmatched"]
