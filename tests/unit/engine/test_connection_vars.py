"""Templated connection variables (kubeform.engine.connection_vars): Ansible renders them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.engine.connection_vars import resolve_connection_vars
from kubeform.errors import UserError
from kubeform.inventory.loader import load_inventory


def inventory(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "inv.yml"
    path.write_text(text)
    return load_inventory(path)


def test_templated_port_and_host_rendered_from_host_vars(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "all:\n  vars: {ssh_port: 2222}\n  hosts:\n    h1: {ip: 10.0.0.5, ansible_host: '{{ ip }}', ansible_port: '{{ ssh_port }}'}\n")
    resolve_connection_vars(inv, {})
    h = inv.hosts["h1"]
    assert (h.address, h.port) == ("10.0.0.5", 2222)
    assert (h.own_vars["ansible_host"], h.own_vars["ansible_port"]) == ("10.0.0.5", 2222), "the host's own layer too"


def test_extra_vars_win(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "all:\n  vars: {ssh_port: 2222}\n  hosts:\n    h1: {ansible_host: 10.0.0.5, ansible_port: '{{ ssh_port }}'}\n")
    resolve_connection_vars(inv, {"ssh_port": 2200})
    assert inv.hosts["h1"].port == 2200


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("all:\n  hosts:\n    h1: {ansible_host: 1.2.3.4, ansible_port: '{{ nope }}'}\n", "inv.yml:3: all.hosts.h1.ansible_port: undefined variable 'nope'"),
        ("all:\n  vars: {p: x}\n  hosts:\n    h1: {ansible_host: 1.2.3.4, ansible_port: '{{ p }}'}\n", "inv.yml:4: all.hosts.h1.ansible_port: must be an integer from 1 to 65535, got 'x'"),
        ("all:\n  vars: {h: 'a..b'}\n  hosts:\n    h1: {ansible_host: '{{ h }}'}\n", "inv.yml:4: all.hosts.h1.ansible_host: 'a..b' is not a valid DNS name: empty label (two dots in a row?)"),
    ],
)
def test_mistakes_named_by_host_and_field(tmp_path: Path, text: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    inv = load_inventory("inv.yml") if (tmp_path / "inv.yml").write_text(text) else None
    assert inv is not None
    with pytest.raises(UserError) as info:
        resolve_connection_vars(inv, {})
    assert str(info.value) == message


def test_local_connection_needs_no_dns_name(tmp_path: Path) -> None:
    inv = inventory(tmp_path, "all:\n  hosts:\n    'my_box..x': {ansible_connection: local}\n")
    resolve_connection_vars(inv, {})
