"""The Vagrant lab agrees with its inventory and with the nspawn lab, both ways."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
RUBY = shutil.which("ruby")
needs_ruby = pytest.mark.skipif(RUBY is None, reason="ruby is not installed (apt-get install ruby)")

# Load the Vagrantfile with a stand-in Vagrant module and print the host list it built.
DUMP = """
module Vagrant; def self.configure(_v); end; end
load ARGV[0]
require "json"
puts JSON.generate(LAB_HOSTS)
"""


def _inventory(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "inventory" / name).read_text())["all"]
    return data


def _roles(inv: dict[str, Any], host: str) -> set[str]:
    return {g for g, body in inv["children"].items() if host in (body.get("hosts") or {})}


def _vagrant_hosts(env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    assert RUBY is not None
    out = subprocess.run(
        [RUBY, "-e", DUMP, str(REPO / "Vagrantfile")],
        capture_output=True, text=True, check=True, cwd=REPO, env=env,
    ).stdout
    hosts: list[dict[str, Any]] = json.loads(out)
    return hosts


@needs_ruby
def test_vagrantfile_syntax() -> None:
    assert RUBY is not None
    proc = subprocess.run([RUBY, "-c", str(REPO / "Vagrantfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Syntax OK" in proc.stdout


@needs_ruby
def test_vagrantfile_and_inventory_agree_both_ways() -> None:
    inv = _inventory("vagrant.yml")
    vms = _vagrant_hosts()
    assert [vm["name"] for vm in vms] == list(inv["hosts"])
    for vm in vms:
        host = inv["hosts"][vm["name"]]
        assert vm["ip"] == host["ansible_host"]
        assert set(vm["roles"]) == _roles(inv, vm["name"])
        assert vm["cpus"] == inv["vars"]["vagrant_cpus"] == 2
        assert vm["memory"] == inv["vars"]["vagrant_memory_mb"] == 2048
        assert vm["box"] == "generic/centos7"
        assert host["ansible_ssh_private_key_file"] == (
            f".vagrant/machines/{vm['name']}/virtualbox/private_key"
        )
    assert inv["vars"]["ansible_user"] == "vagrant" and inv["vars"]["ansible_become"] is True


@needs_ruby
def test_box_overridable() -> None:
    import os

    vms = _vagrant_hosts({**os.environ, "KUBEFORM_BOX": "generic/rocky9"})
    assert {vm["box"] for vm in vms} == {"generic/rocky9"}


def test_lab_and_vagrant_inventories_have_the_same_shape() -> None:
    lab, vagrant = _inventory("lab.yml"), _inventory("vagrant.yml")
    assert list(lab["hosts"]) == list(vagrant["hosts"])
    for name in lab["hosts"]:
        assert lab["hosts"][name]["ansible_host"] == vagrant["hosts"][name]["ansible_host"]
        assert _roles(lab, name) == _roles(vagrant, name)
    assert set(lab["children"]) == set(vagrant["children"]) == {"masters", "etcd", "nodes"}
    assert all(h["ansible_host"].startswith("192.168.56.") for h in lab["hosts"].values())
