"""End to end on a real lab: SSH with verified host keys, reboot, stop, partition, down.

Runs as root against the session's ``kftest`` lab (tests/lab/conftest.py). Traffic goes
only to the lab's own network namespaces.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import paramiko
import pytest

from kubeform.cli.main import build_parser
from kubeform.lab import manager, system
from kubeform.lab.state import LabState
from tests.lab.conftest import LAB_NAME
from tests.lab.remote import ssh

pytestmark = pytest.mark.lab


def answers(st: LabState, host: str) -> bool:
    pub = (Path(st.host(host).dir) / "ssh_host_ed25519_key.pub").read_text()
    return manager.ssh_answers(st.host(host).address, pub, timeout=1.0)


def test_ssh_into_every_host_with_verified_host_keys(lab: LabState) -> None:
    for host in lab.hosts:
        out = ssh(lab, host.name, "hostname; ip -4 -o addr show eth0; ip route; cat /etc/machine-id")
        lines = out.splitlines()
        assert lines[0] == host.name
        assert f"inet {host.address}/24" in lines[1]
        assert not any(line.startswith("default") for line in lines[2:])
    ids = {ssh(lab, h.name, "cat /etc/machine-id") for h in lab.hosts}
    assert len(ids) == 3


def test_a_wrong_host_key_is_rejected(lab: LabState, tmp_path: Path) -> None:
    other = tmp_path / "known_hosts"
    lines = Path(f"{lab.directory}/known_hosts").read_text().splitlines()
    # kf-node1's address with kf-node2's key: the client must refuse it.
    node2_key = lines[2].split(" ", 1)[1]
    other.write_text(f"{lab.host('kf-node1').address} {node2_key}\n")
    client = paramiko.SSHClient()
    client.load_host_keys(str(other))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException):
        client.connect(lab.host("kf-node1").address, username="root",
                       key_filename=f"{lab.directory}/id_ed25519", look_for_keys=False,
                       allow_agent=False, timeout=10)
    client.close()


def test_hosts_reach_each_other_by_name_and_run_systemd(lab: LabState) -> None:
    out = ssh(lab, "kf-node1", "ping -c1 -W2 kf-master1 >/dev/null && echo ok; "
              "systemctl is-enabled etcd || true; readlink /proc/1/exe")
    assert out.split() == ["ok", "disabled", "/usr/lib/systemd/systemd"]


def test_lab_ssh_verb_uses_the_lab_key(lab: LabState) -> None:
    argv = manager.ssh_command(LAB_NAME, "kf-master1", ["hostname"])
    assert shutil.which(argv[0])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "kf-master1"


def test_reboot_comes_back_with_a_new_boot_id(lab: LabState) -> None:
    before = ssh(lab, "kf-node1", "cat /proc/sys/kernel/random/boot_id").strip()
    old, new = manager.reboot(LAB_NAME, "kf-node1")
    assert old == before
    assert new is not None and new != old
    assert ssh(lab, "kf-node1", "cat /proc/sys/kernel/random/boot_id").strip() == new


def test_a_stopped_host_is_unreachable_while_others_answer(lab: LabState) -> None:
    manager.stop(LAB_NAME, "kf-node2")
    try:
        rows = {r.name: r.state for r in manager.status(LAB_NAME)}
        assert rows["kf-node2"] == "stopped"
        assert not answers(lab, "kf-node2")
        assert answers(lab, "kf-master1") and answers(lab, "kf-node1")
    finally:
        manager.start(LAB_NAME, "kf-node2")
    assert ssh(lab, "kf-node2", "hostname").strip() == "kf-node2"


def test_partition_and_heal(lab: LabState) -> None:
    manager.set_partition(LAB_NAME, "kf-node1", cut=True)
    try:
        assert {r.name: r.state for r in manager.status(LAB_NAME)}["kf-node1"] == "partitioned"
        assert not answers(lab, "kf-node1")
        assert answers(lab, "kf-master1")
    finally:
        manager.set_partition(LAB_NAME, "kf-node1", cut=False)
    assert ssh(lab, "kf-node1", "hostname").strip() == "kf-node1"


def test_status_reports_every_host_running(lab: LabState) -> None:
    rows = manager.status(LAB_NAME)
    assert [r.state for r in rows] == ["running"] * 3
    assert all(r.boot_id for r in rows)


def _has_run_verb() -> bool:
    sub = build_parser()._subparsers
    return sub is not None and any(
        "run" in getattr(a, "choices", {}) for a in sub._group_actions
    )


@pytest.mark.skipif(not _has_run_verb(), reason="`kubeform run` (the engine) has not landed yet")
def test_kubeform_run_on_every_host(lab: LabState, tmp_path: Path) -> None:
    playbook = tmp_path / "hello.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  tasks:\n"
        "    - name: leave a mark\n"
        "      copy:\n"
        "        dest: /root/kubeform-was-here\n"
        "        content: hello\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "kubeform", "run", "-i", f"{lab.directory}/inventory.yml",
         str(playbook)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host in lab.hosts:
        assert ssh(lab, host.name, "cat /root/kubeform-was-here") == "hello"


@pytest.mark.skipif(not _has_run_verb(), reason="`kubeform run` (the engine) has not landed yet")
def test_kubeform_run_recap_names_a_stopped_host_unreachable(
    lab: LabState, tmp_path: Path
) -> None:
    playbook = tmp_path / "ping.yml"
    playbook.write_text(
        "- hosts: all\n  tasks:\n    - name: touch\n      copy:\n"
        "        dest: /root/still-here\n        content: here\n"
    )
    manager.stop(LAB_NAME, "kf-node2")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "kubeform", "run", "-i", f"{lab.directory}/inventory.yml",
             str(playbook)],
            capture_output=True, text=True, timeout=300, check=False,
        )
    finally:
        manager.start(LAB_NAME, "kf-node2")
    assert proc.returncode != 0
    assert "RECAP" in proc.stdout, proc.stdout + proc.stderr
    recap = proc.stdout[proc.stdout.index("RECAP"):]
    lines = {line.split(":")[0].strip(): line for line in recap.splitlines()[1:] if ":" in line}
    assert "unreachable=1" in lines["kf-node2"]
    assert "unreachable=0" in lines["kf-master1"] and "unreachable=0" in lines["kf-node1"]


def test_zz_down_leaves_nothing(lab: LabState) -> None:
    """Last: tear down and look for anything of the lab's left on the machine."""
    manager.down(LAB_NAME)
    manager.down(LAB_NAME)  # idempotent
    assert not [n for n in system.netns_names() if n.startswith(f"kf-{LAB_NAME}-")]
    links = system.link_names()
    assert lab.bridge not in links
    assert not [h.veth for h in lab.hosts if h.veth in links]
    assert not [m for m in system.mountpoints() if m.startswith(lab.directory)]
    leftover = [
        p for p in system.processes()
        if any(lab.directory in a for a in p.argv) and system.alive(p.pid)
    ]
    assert leftover == []
    assert not Path(lab.directory).exists()
