"""Text and command lines a lab is made of, rendered from its plan.

Pure functions: the inventory a lab hands to ``kubeform up``, the files each host gets
in its own overlay layer, and the systemd-nspawn command line. Keeping them here means
the files on disk and the tests agree by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from kubeform.lab.plan import LabHost, LabPlan, netns_name

INVENTORY_GROUPS = ("masters", "etcd", "nodes")

SSHD_DROPIN = """\
# Written by kubeform lab: one host key per machine (recorded in the lab's known_hosts),
# root by key only.
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
"""


def inventory_data(
    plan: LabPlan,
    *,
    common: Mapping[str, Any],
    per_host: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """An Ansible-compatible YAML inventory of the plan's hosts, grouped by role."""
    per_host = per_host or {}
    hosts: dict[str, Any] = {}
    for host in plan.hosts:
        entry: dict[str, Any] = {"ansible_host": host.address}
        entry.update(per_host.get(host.name, {}))
        hosts[host.name] = entry
    children: dict[str, Any] = {}
    for group in INVENTORY_GROUPS:
        members = {h.name: None for h in plan.hosts if group in h.groups}
        children[group] = {"hosts": members}
    return {"all": {"vars": dict(common), "hosts": hosts, "children": children}}


def lab_inventory(plan: LabPlan) -> dict[str, Any]:
    """The inventory of a running lab: root over SSH with the lab's key and known_hosts."""
    return inventory_data(
        plan,
        common={
            "ansible_user": "root",
            "ansible_ssh_private_key_file": f"{plan.directory}/id_ed25519",
            "kubeform_known_hosts_file": f"{plan.directory}/known_hosts",
            "kubeform_lab": plan.name,
        },
    )


def dump_inventory(data: Mapping[str, Any], header: str) -> str:
    """YAML text with a comment header; empty groups members print as ``name:``."""
    body = yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False)
    body = body.replace(": null\n", ":\n")
    lines = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    return lines + body


def lab_inventory_text(plan: LabPlan) -> str:
    """The file ``kubeform lab up`` writes (and inventory/lab.yml for the default lab)."""
    header = (
        f"kubeform lab {plan.name!r}: {len(plan.hosts)} systemd-nspawn hosts on {plan.subnet}.\n"
        "Written by `kubeform lab up`; the key and known_hosts are made by the lab.\n"
        "Use: kubeform up THIS_FILE"
    )
    return dump_inventory(lab_inventory(plan), header)


def etc_hosts(plan: LabPlan, me: LabHost) -> str:
    """/etc/hosts of one lab host: itself on loopback and every lab host by address."""
    lines = [
        "127.0.0.1\tlocalhost",
        f"127.0.1.1\t{me.name}",
        "::1\tlocalhost ip6-localhost ip6-loopback",
        f"{plan.gateway}\tkf-lab-gateway",
    ]
    lines += [f"{h.address}\t{h.name}" for h in plan.hosts]
    return "\n".join(lines) + "\n"


def known_hosts(plan: LabPlan, host_keys: Mapping[str, str]) -> str:
    """known_hosts for the lab: each host by name and address with its ed25519 key.

    ``host_keys`` maps a host name to its public key line (``ssh-ed25519 AAAA...``).
    """
    lines = []
    for host in plan.hosts:
        key = " ".join(host_keys[host.name].split()[:2])
        lines.append(f"{host.name},{host.address} {key}")
    return "\n".join(lines) + "\n"


def machine_name(lab: str, host: str) -> str:
    """The nspawn machine name: unique across labs (it names a run directory)."""
    return f"{lab}-{host}"


def nspawn_argv(lab: str, host: str, root: str) -> list[str]:
    """The systemd-nspawn command that boots one lab host.

    --register=no/--keep-unit: the machine running kubeform may not run systemd as PID 1;
    --capability=all: the host runs its own bridges, netns and containers (crun);
    the network namespace is made beforehand so its address survives reboots.
    """
    return [
        "systemd-nspawn",
        "--quiet",
        "-D",
        root,
        "--register=no",
        "--keep-unit",
        "--capability=all",
        f"--network-namespace-path=/run/netns/{netns_name(lab, host)}",
        "-M",
        machine_name(lab, host),
        f"--hostname={host}",
        "--link-journal=no",
        "--resolv-conf=off",
        "--timezone=off",
        "--console=read-only",
        "-b",
    ]


def overlay_options(lower: str, upper: str, work: str) -> str:
    """mount -o for a host's root: the shared base read-only under its own layer."""
    return f"lowerdir={lower},upperdir={upper},workdir={work}"


def host_files(
    plan: LabPlan,
    host: LabHost,
    *,
    host_private_key: str,
    host_public_key: str,
    authorized_key: str,
    machine_id: str,
) -> list[tuple[str, str, int]]:
    """(path inside the host, content, mode) for the files that make a host itself."""
    return [
        ("/etc/hostname", host.name + "\n", 0o644),
        ("/etc/hosts", etc_hosts(plan, host), 0o644),
        ("/etc/machine-id", machine_id + "\n", 0o444),
        ("/etc/ssh/ssh_host_ed25519_key", host_private_key, 0o600),
        ("/etc/ssh/ssh_host_ed25519_key.pub", host_public_key, 0o644),
        ("/etc/ssh/sshd_config.d/kubeform.conf", SSHD_DROPIN, 0o644),
        ("/root/.ssh/authorized_keys", authorized_key, 0o600),
    ]


def ip_commands_for_host(
    plan: LabPlan, host: LabHost, veth: str, existing: Sequence[str]
) -> list[list[str]]:
    """ip(8) commands that give a host its namespace, its veth on the bridge and address.

    ``existing`` lists what already exists ("netns", "veth"), so ``lab up`` converges
    instead of failing on a second run.
    """
    ns = netns_name(plan.name, host.name)
    cmds: list[list[str]] = []
    if "netns" not in existing:
        cmds.append(["ip", "netns", "add", ns])
    if "veth" not in existing:
        cmds += [
            ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
            ["ip", "-n", ns, "addr", "add", f"{host.address}/{plan.prefixlen}", "dev", "eth0"],
        ]
    cmds += [
        ["ip", "link", "set", veth, "master", plan.bridge],
        ["ip", "link", "set", veth, "up"],
        ["ip", "-n", ns, "link", "set", "lo", "up"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
    ]
    return cmds


def ip_commands_for_bridge(plan: LabPlan, exists: bool) -> list[list[str]]:
    """The bridge in the root namespace that holds .1 and reaches every host."""
    cmds: list[list[str]] = []
    if not exists:
        cmds += [
            ["ip", "link", "add", plan.bridge, "type", "bridge"],
            ["ip", "addr", "add", f"{plan.gateway}/{plan.prefixlen}", "dev", plan.bridge],
        ]
    cmds.append(["ip", "link", "set", plan.bridge, "up"])
    return cmds


def ssh_argv(
    address: str, key_file: str, known_hosts_file: str, command: Sequence[str]
) -> list[str]:
    """The ssh(1) command for ``kubeform lab ssh``: the lab key, strict host-key checking.

    A connect timeout, so a partitioned or stopped host fails in seconds instead of
    hanging for the kernel's TCP timeout (minutes).
    """
    return [
        "ssh",
        "-i",
        key_file,
        "-o",
        "ConnectTimeout=10",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts_file}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "LogLevel=ERROR",
        f"root@{address}",
        *command,
    ]


VAGRANT_BOX = "generic/centos7"
VAGRANT_CPUS = 2
VAGRANT_MEMORY_MB = 2048


def vagrant_inventory_text(plan: LabPlan) -> str:
    """inventory/vagrant.yml: the lab's hosts as VirtualBox VMs (the Vagrantfile reads it)."""
    data = inventory_data(
        plan,
        common={
            "ansible_user": "vagrant",
            "ansible_become": True,
            "kubeform_known_hosts_file": ".vagrant/known_hosts",
            "vagrant_box": VAGRANT_BOX,
            "vagrant_cpus": VAGRANT_CPUS,
            "vagrant_memory_mb": VAGRANT_MEMORY_MB,
        },
        per_host={
            h.name: {
                "ansible_ssh_private_key_file": f".vagrant/machines/{h.name}/virtualbox/private_key"
            }
            for h in plan.hosts
        },
    )
    header = (
        f"The Vagrant lab: {len(plan.hosts)} VirtualBox VMs on {plan.subnet}, the same names\n"
        "and addresses as `kubeform lab up`. The Vagrantfile reads this file, so the two\n"
        "cannot drift. Box: vagrant_box (override with KUBEFORM_BOX=generic/rocky9).\n"
        "Use (from the repository root): vagrant up && kubeform up inventory/vagrant.yml"
    )
    return dump_inventory(data, header)
