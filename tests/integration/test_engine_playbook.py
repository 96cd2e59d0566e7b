"""The engine end to end against a real sshd on loopback: run, re-run, plan, failures.

Every host of the inventory is this machine (one sshd on 127.0.0.2-4); each host gets
its own ``root`` directory under tmp_path and the playbook writes only below it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.cli.main import main
from tests.sshd_server import SSHDServer

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "site" / "site.yml"


def kubeform(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc, out, _err = kubeform(capsys, *argv, "--json")
    return rc, json.loads(out)


def test_site_converges_and_plans(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", root=tmp_path / "hosts")
    common = (str(SITE), "-i", str(inv))

    rc, out, err = kubeform(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 2, out + err
    assert "Plan: " in out and "to add" in out
    assert not (tmp_path / "hosts" / "h1" / "app").exists(), "plan must change nothing"

    rc, first = run_json(capsys, "run", *common)
    assert rc == 0, first
    hosts = first["hosts"]
    assert sorted(hosts) == ["h1", "h2", "h3"]
    for name, host in hosts.items():
        assert len(host["tasks"]) >= 20
        assert host["recap"]["changed"] >= 15 and host["recap"]["failed"] == 0, (name, host["recap"])
        root = tmp_path / "hosts" / name
        assert (root / "etc" / "app.conf").read_text().startswith("# managed by kubeform")
        assert "10.0.0.1 " + name + ".example" in (root / "etc" / "hosts").read_text()
        assert (root / "app" / "run" / "reloaded").exists(), "the notified handler ran"
        assert (root / "app" / "app.conf").is_symlink()
        assert not (root / "app" / "never-tag").exists()
    token_task = next(t for t in hosts["h1"]["tasks"] if t["task"] == "secret token")
    assert "s3cr3t" not in json.dumps(token_task)

    rc, second = run_json(capsys, "run", *common)
    assert rc == 0
    for name, host in second["hosts"].items():
        assert host["recap"]["changed"] == 0, (name, [t for t in host["tasks"] if t["changed"]])

    rc, out, err = kubeform(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 0, out + err
    assert "Plan: 0 to add, 0 to change, 0 to remove, on 3 hosts." in out


def test_check_diff_shows_a_file_diff(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", n=1, root=tmp_path / "hosts")
    conf = tmp_path / "hosts" / "h1" / "app.conf"
    conf.write_text("a=1\nb=2\n")
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "- hosts: all\n  tasks:\n    - name: edit\n      copy:\n"
        "        dest: '{{ root }}/app.conf'\n        content: \"a=1\\nb=3\\n\"\n"
    )
    rc, out, err = kubeform(capsys, "run", str(pb), "-i", str(inv), "--check", "--diff", "--detailed-exitcode")
    assert rc == 2, out + err
    assert "-b=2" in out and "+b=3" in out
    assert conf.read_text() == "a=1\nb=2\n"


def test_unknown_host_key_is_refused(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sshd_hosts.inventory_data(1, root=tmp_path / "hosts")
    for host in data["all"]["hosts"].values():
        host.pop("kubeform_known_hosts_file")
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(data))
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    pb = tmp_path / "pb.yml"
    pb.write_text("- hosts: all\n  tasks:\n    - file: {path: '{{ root }}/x', state: directory}\n")
    rc, result = run_json(capsys, "run", str(pb), "-i", str(inv), "--known-hosts", str(empty))
    assert rc == 1
    assert result["hosts"]["h1"]["recap"]["unreachable"] == 1
    msg = result["hosts"]["h1"]["tasks"][0]["msg"].lower()
    assert "host key" in msg
    assert not (tmp_path / "hosts" / "h1" / "x").exists()
    assert empty.read_text() == "", "an unknown key must not be recorded without --trust-new-hosts"


def test_unreachable_host_in_recap_others_succeed(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = sshd_hosts.inventory_data(2, root=tmp_path / "hosts")
    data["all"]["hosts"]["down"] = sshd_hosts.host_vars(sshd_hosts.unreachable, root=str(tmp_path / "hosts" / "down"))
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(data))
    pb = tmp_path / "pb.yml"
    pb.write_text("- hosts: all\n  tasks:\n    - copy: {dest: '{{ root }}/hello', content: hi}\n")
    rc, out, _err = kubeform(capsys, "run", str(pb), "-i", str(inv))
    assert rc == 1
    recap = {line.split(":")[0].strip(): line for line in out.splitlines() if " : ok=" in line}
    assert "unreachable=1" in recap["down"]
    assert "changed=1" in recap["h1"] and "changed=1" in recap["h2"]
    assert (tmp_path / "hosts" / "h1" / "hello").read_text() == "hi"


def test_handlers_flush_after_pre_tasks_tasks_and_post_tasks(
    sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", 1, root=tmp_path / "hosts")
    playbook = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "handler_flush.yml"
    rc, out, err = kubeform(capsys, "run", str(playbook), "-i", str(inv))
    assert rc == 0, out + err
    assert (tmp_path / "hosts" / "h1" / "log").read_text().split() == ["handler", "task", "handler", "handler"]


def test_group_by_groups_later_plays(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", root=tmp_path / "hosts")
    playbook = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "group_by.yml"
    for command in ("plan", "run"):
        rc, out, err = kubeform(capsys, command, str(playbook), "-i", str(inv))
        assert rc == 0, out + err
        assert "matches no host" not in err
    root = tmp_path / "hosts"
    assert (root / "h1" / "odd").exists() and (root / "h3" / "odd").exists() and not (root / "h2" / "odd").exists()
    assert (root / "h2" / "groups").read_text() == "kind_even,sorted,ungrouped h1,h3\n"
    assert (root / "h3" / "groups").read_text() == "kind_odd,sorted,ungrouped h1,h3\n"


def test_delegate_to(sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", 2, root=tmp_path / "hosts")
    playbook = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "delegate_to.yml"
    for command in ("plan", "run", "run"):
        rc, out, err = kubeform(capsys, command, str(playbook), "-i", str(inv))
        assert rc == 0, out + err
    h1 = tmp_path / "hosts" / "h1"
    for host in ("h1", "h2"):
        words = (h1 / f"conn-{host}").read_text().split()
        assert words[2:4] == [sshd_hosts.addresses[0], str(sshd_hosts.port)], words
    assert (tmp_path / "hosts" / "h2" / "local-cmd").read_text() == "none\n", "delegate_to localhost runs without ssh"
    assert (tmp_path / "hosts" / "h2" / "local-h2").exists() and (tmp_path / "hosts" / "h2" / "self").exists()
    assert (tmp_path / "hosts" / "h1" / "local-action").read_text() == "none\n"
    assert (tmp_path / "hosts" / "h1" / "local-action-2").read_text() == "two\n"
    rc, out, err = kubeform(capsys, "plan", str(playbook), "-i", str(inv), "--detailed-exitcode")
    assert rc == 0, out + err


def test_playbook_group_vars_rank_above_inventory_groups(
    sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As in Ansible: inventory groups < the playbook's group_vars < the host's own < the playbook's host_vars."""
    site = tmp_path / "site"
    (site / "group_vars").mkdir(parents=True)
    (site / "host_vars").mkdir()
    (site / "group_vars" / "web.yml").write_text("a: playbook-group\nb: playbook-group\nc: playbook-group\n")
    (site / "host_vars" / "h1.yml").write_text("c: playbook-host\n")
    (site / "site.yml").write_text(
        "- hosts: web\n  tasks:\n    - copy: {dest: '{{ root }}/vars', content: \"{{ a }} {{ b }} {{ c }} {{ hostvars['h1'].a }}\\n\"}\n"
    )
    data = sshd_hosts.inventory_data(1, root=tmp_path / "hosts", groups={"web": ["h1"]})
    data["all"]["children"]["web"]["vars"] = {"a": "inventory-group", "b": "inventory-group", "c": "inventory-group"}
    data["all"]["hosts"]["h1"]["b"] = "inventory-host"
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(data))
    rc, out, err = kubeform(capsys, "run", str(site / "site.yml"), "-i", str(inv))
    assert rc == 0, out + err
    assert (tmp_path / "hosts" / "h1" / "vars").read_text() == "playbook-group inventory-host playbook-host playbook-group\n"
