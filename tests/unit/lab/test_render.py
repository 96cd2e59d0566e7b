"""Rendered lab artefacts: the inventory files, host files, nspawn and ip command lines."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubeform.lab import render
from kubeform.lab.plan import make_plan, veth_name

REPO = Path(__file__).resolve().parents[3]


def test_inventory_lab_yml_is_the_rendered_default_lab() -> None:
    assert (REPO / "inventory/lab.yml").read_text() == render.lab_inventory_text(make_plan())


def test_inventory_vagrant_yml_is_rendered_from_the_same_plan() -> None:
    text = render.vagrant_inventory_text(make_plan())
    assert (REPO / "inventory/vagrant.yml").read_text() == text


def test_lab_inventory_connects_as_root_with_lab_key_and_known_hosts() -> None:
    data = yaml.safe_load(render.lab_inventory_text(make_plan(name="kftest", subnet="192.168.57.0/24")))
    common = data["all"]["vars"]
    assert common["ansible_user"] == "root"
    assert common["ansible_ssh_private_key_file"] == "/var/lib/kubeform/lab/kftest/id_ed25519"
    assert common["kubeform_known_hosts_file"] == "/var/lib/kubeform/lab/kftest/known_hosts"
    assert data["all"]["hosts"]["kf-node2"] == {"ansible_host": "192.168.57.22"}
    assert list(data["all"]["children"]["etcd"]["hosts"]) == ["kf-master1"]
    assert list(data["all"]["children"]["nodes"]["hosts"]) == ["kf-node1", "kf-node2"]


def test_known_hosts_lists_name_and_address() -> None:
    plan = make_plan(hosts=2)
    keys = {"kf-master1": "ssh-ed25519 AAAA1 root@x\n", "kf-node1": "ssh-ed25519 AAAA2"}
    assert render.known_hosts(plan, keys) == (
        "kf-master1,192.168.56.11 ssh-ed25519 AAAA1\nkf-node1,192.168.56.21 ssh-ed25519 AAAA2\n"
    )


def test_etc_hosts_names_every_lab_host() -> None:
    plan = make_plan()
    text = render.etc_hosts(plan, plan.host("kf-node1"))
    assert "127.0.1.1\tkf-node1\n" in text
    assert "192.168.56.11\tkf-master1\n" in text and "192.168.56.22\tkf-node2\n" in text


def test_nspawn_argv() -> None:
    assert render.nspawn_argv("kftest", "kf-node1", "/r") == [
        "systemd-nspawn", "--quiet", "-D", "/r", "--register=no", "--keep-unit",
        "--capability=all", "--network-namespace-path=/run/netns/kftest-kf-node1".replace(
            "kftest-", "kf-kftest-"),
        "-M", "kftest-kf-node1", "--hostname=kf-node1", "--link-journal=no",
        "--resolv-conf=off", "--timezone=off", "--console=read-only", "-b",
    ]


def test_ip_commands_converge() -> None:
    plan = make_plan(hosts=1)
    host = plan.host("kf-master1")
    veth = veth_name("kubeform", "kf-master1")
    fresh = render.ip_commands_for_host(plan, host, veth, [])
    assert fresh[:3] == [
        ["ip", "netns", "add", "kf-kubeform-kf-master1"],
        ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns",
         "kf-kubeform-kf-master1"],
        ["ip", "-n", "kf-kubeform-kf-master1", "addr", "add", "192.168.56.11/24", "dev", "eth0"],
    ]
    again = render.ip_commands_for_host(plan, host, veth, ["netns", "veth"])
    assert all(cmd[1:3] != ["netns", "add"] and "add" not in cmd[:4] for cmd in again)
    assert render.ip_commands_for_bridge(plan, exists=False)[1] == [
        "ip", "addr", "add", "192.168.56.1/24", "dev", "kf-kubeform"]
    assert render.ip_commands_for_bridge(plan, exists=True) == [
        ["ip", "link", "set", "kf-kubeform", "up"]]


def test_host_files_modes_keep_secrets_private() -> None:
    plan = make_plan()
    files = render.host_files(
        plan, plan.host("kf-node2"), host_private_key="PRIV", host_public_key="PUB",
        authorized_key="AUTH", machine_id="0" * 32,
    )
    modes = {path: mode for path, _, mode in files}
    assert modes["/etc/ssh/ssh_host_ed25519_key"] == 0o600
    assert modes["/root/.ssh/authorized_keys"] == 0o600
    assert dict((p, c) for p, c, _ in files)["/etc/hostname"] == "kf-node2\n"


def test_ssh_argv_checks_host_keys() -> None:
    argv = render.ssh_argv("192.168.56.11", "/k", "/kh", ["uptime"])
    assert "StrictHostKeyChecking=yes" in argv and "UserKnownHostsFile=/kh" in argv
    assert argv[-2:] == ["root@192.168.56.11", "uptime"]


def test_ssh_argv_gives_up_on_a_partitioned_host() -> None:
    """`lab ssh` to a partitioned host used to hang for minutes (found by acceptance testing)."""
    argv = render.ssh_argv("192.168.56.11", "/k", "/kh", [])
    assert "ConnectTimeout=10" in argv
    assert argv[-1] == "root@192.168.56.11"
