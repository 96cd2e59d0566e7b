"""play_hosts: serial batches, remote_user, group_vars/host_vars beside the playbook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.engine.play_hosts import playbook_vars, serial_batches, with_remote_user
from kubeform.errors import UserError
from kubeform.inventory.model import Host
from tests.unit.engine.fakes import inventory

HOSTS = [Host(f"h{i}") for i in range(1, 6)]


@pytest.mark.parametrize(
    ("serial", "sizes"),
    [(None, [5]), (2, [2, 2, 1]), ("40%", [2, 2, 1]), ("10%", [1, 1, 1, 1, 1]), ([1, 3], [1, 3, 1]), (["20%", "100%"], [1, 4])],
)
def test_serial_batches(serial: Any, sizes: list[int]) -> None:
    batches = serial_batches(HOSTS, serial)
    assert [len(b) for b in batches] == sizes
    assert [h for b in batches for h in b] == HOSTS


def test_serial_must_be_a_number() -> None:
    with pytest.raises(UserError, match="serial must be a number"):
        serial_batches(HOSTS, "many")


def test_remote_user_only_where_the_inventory_names_none() -> None:
    assert with_remote_user(Host("a"), "deploy").user == "deploy"
    assert with_remote_user(Host("a", vars={"ansible_user": "root"}), "deploy").user == "root"
    assert with_remote_user(Host("a"), None).user == "root"


def test_vars_beside_the_playbook(tmp_path: Path) -> None:
    (tmp_path / "group_vars").mkdir()
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "group_vars" / "all.yml").write_text("x: all\ny: all\n")
    (tmp_path / "group_vars" / "web.yml").write_text("y: web\n")
    (tmp_path / "host_vars" / "h2.yml").write_text("x: h2\n")
    got = playbook_vars(tmp_path, inventory("h1", "h2"))
    assert got == {"h1": {"x": "all", "y": "web"}, "h2": {"x": "h2", "y": "web"}}
    assert playbook_vars(tmp_path / "none", inventory("h1")) == {}
