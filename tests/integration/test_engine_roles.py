"""Ansible-style roles end to end against the loopback sshd (tests/data/playbooks/roles_site).

The playbook was written for this test: roles with defaults, vars, handlers, templates,
files and meta dependencies, import_playbook, import_role/include_role, include_tasks
with a loop, include_vars, stat, with_* loops, ansible.builtin.* names, group_vars and
host_vars beside the playbook, registered values carried into a later play. It must
converge, a second run must change nothing, and a plan after it must be empty.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kubeform.cli.main import main
from tests.sshd_server import SSHDServer

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "roles_site"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = main([*argv, "--json"])
    out = capsys.readouterr()
    return rc, json.loads(out.out) if out.out.strip() else {"stderr": out.err}


def test_role_based_site_converges_and_is_idempotent(
    sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", root=tmp_path / "hosts", groups={"web": ["h1", "h2"]})
    common = (str(site / "site.yml"), "-i", str(inv))

    rc, plan = run_json(capsys, "plan", *common)
    assert rc in (0, 2), plan
    assert not (tmp_path / "hosts" / "h1" / "state").exists(), "plan must change nothing"

    rc, first = run_json(capsys, "run", *common)
    assert rc == 0, json.dumps(first, indent=1)[:4000]
    h1 = first["hosts"]["h1"]
    names = [t["task"] for t in h1["tasks"]]
    assert len(names) >= 30, names
    assert h1["recap"]["failed"] == 0
    root = tmp_path / "hosts"
    conf = (root / "h1" / "etc" / "common.conf").read_text()
    assert conf.startswith("# Ansible managed\nowner=ops\nmotd=welcome to h1 (first host)\n")
    assert "server 1.pool.ntp.org iburst" in conf
    assert (root / "h3" / "etc" / "common.conf").read_text().splitlines()[2] == "motd=welcome to h3"
    assert (root / "h1" / "etc" / "banner").read_text() == "Authorized use only.\n"
    assert "vm.swappiness = 10" in (root / "h2" / "etc" / "sysctl.conf").read_text()
    assert (root / "h1" / "etc" / "beta.conf").read_text() == "name=beta\n"
    assert (root / "h3" / "etc" / "ssh_config").read_text() == "PermitRootLogin no\nX11Forwarding no\n"
    assert "* hard nofile 8192" in (root / "h1" / "etc" / "limits.conf").read_text()
    app = root / "h1" / "opt" / "shop"
    assert (app / "app.ini").read_text() == "[shop]\nport = 8080\nuser = www\n"
    assert (app / "extra.ini").read_text() == "extra = true\n"
    assert (app / "installed").read_text() == "shop\n"
    assert (app / "restarted").exists(), "the role's handler ran"
    assert (root / "h1" / "state" / "common-reloaded").exists()
    assert (app / "cache" / "b").is_dir()
    assert sorted((root / "h2" / "etc" / "group-members").read_text().split()) == ["admin:alice", "dev:alice", "dev:bob"]
    assert (root / "h1" / "opt" / "slot03").is_dir()
    assert not (root / "h3" / "opt" / "shop").exists(), "h3 is not in web"
    assert (root / "h3" / "state" / "verified").exists()
    base_runs = [t["play"] for t in h1["tasks"] if t["task"] == "a marker of the dependency"]
    assert base_runs == ["prepare", "application"], "a dependency with the same parameters runs once per play"

    rc, second = run_json(capsys, "run", *common)
    assert rc == 0
    for name, host in second["hosts"].items():
        assert host["recap"]["changed"] == 0, (name, [t for t in host["tasks"] if t["changed"]])

    rc, again = run_json(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 0, again
