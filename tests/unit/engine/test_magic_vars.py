"""magic_vars: Ansible's magic variables of one host in one play."""

from __future__ import annotations

from kubeform.engine.magic_vars import MAGIC_NAMES, magic_vars
from tests.unit.engine.fakes import inventory


def test_magic_vars_of_a_host() -> None:
    inv = inventory("web1.example.com", "web2")
    host = inv.hosts["web1.example.com"]
    magic = magic_vars(host, inv, ["web1.example.com"], {"web2": {}}, True, "/pb")
    assert magic["inventory_hostname_short"] == "web1"
    assert magic["group_names"] == ["web"]
    assert magic["groups"]["web"] == ["web1.example.com", "web2"]
    assert magic["ansible_check_mode"] is True and magic["playbook_dir"] == "/pb"
    assert set(magic) - {"item"} <= MAGIC_NAMES
