"""The lab's address and role plan: which hosts a lab of N machines has, and where.

Pure decisions only, so the Vagrant lab, the inventory files and the running lab all
derive from the same rules and are unit-tested as data. Addresses are stable whatever
the size: masters (which are also the etcd members) sit at .11-.19 and nodes at .21 and
up, so ``kf-node1`` is 192.168.56.21 in a 3-host lab and in a 5-host lab alike.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from kubeform.errors import UserError

DEFAULT_NAME = "kubeform"
DEFAULT_SUBNET = "192.168.56.0/24"
DEFAULT_HOSTS = 3
MAX_HOSTS = 40
MASTER_OFFSET = 10  # kf-master<i> at network + 10 + i
NODE_OFFSET = 20  # kf-node<i> at network + 20 + i
MAX_MASTERS = 9
LAB_ROOT = "/var/lib/kubeform/lab"

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,11}$")


@dataclass(frozen=True)
class LabHost:
    """One machine of the lab: its name, address and the inventory groups it is in."""

    name: str
    address: str
    groups: tuple[str, ...]
    index: int  # position in the lab (0-based), decides the order of boot and listing


@dataclass(frozen=True)
class LabPlan:
    """Everything about a lab that follows from its name, subnet and size."""

    name: str
    subnet: str
    prefixlen: int
    gateway: str  # the bridge's address in the root namespace
    bridge: str
    hosts: tuple[LabHost, ...] = field(default_factory=tuple)

    @property
    def directory(self) -> str:
        return f"{LAB_ROOT}/{self.name}"

    def host(self, name: str) -> LabHost:
        """The host called ``name``; a clear error names the hosts that exist."""
        for host in self.hosts:
            if host.name == name:
                return host
        known = ", ".join(h.name for h in self.hosts)
        raise UserError(f"no host {name!r} in lab {self.name!r} (hosts: {known})")


def master_count(total: int) -> int:
    """How many masters (= etcd members) a lab of ``total`` hosts gets: always odd.

    One master until there are enough hosts to keep two nodes beside three members; a
    quorum of three is what makes losing one member survivable.
    """
    if total < 5:
        return 1
    if total < 9:
        return 3
    return 5


def validate_name(name: str) -> str:
    """Lab names end up in interface names (15 bytes at most), so keep them short."""
    if not _NAME_RE.match(name):
        raise UserError(
            f"invalid lab name {name!r}",
            field="--name",
            hint="1-12 characters: lowercase letters, digits and '-', starting with a letter",
        )
    return name


def validate_subnet(subnet: str) -> ipaddress.IPv4Network:
    """The lab needs room for .1 (bridge), .11-.19 (masters) and .21+ (nodes)."""
    try:
        net = ipaddress.IPv4Network(subnet, strict=True)
    except ValueError as err:
        raise UserError(
            f"invalid subnet {subnet!r}: {err}",
            field="--subnet",
            hint="give an IPv4 network such as 192.168.56.0/24",
        ) from None
    if net.prefixlen > 24:
        raise UserError(
            f"subnet {subnet} is too small for a lab",
            field="--subnet",
            hint="use a /24 or larger, such as 192.168.56.0/24",
        )
    if not net.is_private:
        raise UserError(
            f"subnet {subnet} is not a private range",
            field="--subnet",
            hint="labs are offline sites: use a private range such as 192.168.56.0/24",
        )
    return net


def make_plan(
    hosts: int = DEFAULT_HOSTS, name: str = DEFAULT_NAME, subnet: str = DEFAULT_SUBNET
) -> LabPlan:
    """The full plan of a lab: names, addresses, groups, bridge and gateway."""
    validate_name(name)
    net = validate_subnet(subnet)
    if not 1 <= hosts <= MAX_HOSTS:
        raise UserError(
            f"a lab has 1 to {MAX_HOSTS} hosts, not {hosts}", field="--hosts"
        )
    masters = master_count(hosts)
    nodes = hosts - masters
    base = int(net.network_address)
    planned: list[LabHost] = []
    for i in range(1, masters + 1):
        groups: tuple[str, ...] = ("masters", "etcd")
        if nodes == 0:  # a one-host lab: the master runs pods too
            groups = ("masters", "etcd", "nodes")
        addr = str(ipaddress.IPv4Address(base + MASTER_OFFSET + i))
        planned.append(LabHost(f"kf-master{i}", addr, groups, len(planned)))
    for i in range(1, nodes + 1):
        addr = str(ipaddress.IPv4Address(base + NODE_OFFSET + i))
        planned.append(LabHost(f"kf-node{i}", addr, ("nodes",), len(planned)))
    return LabPlan(
        name=name,
        subnet=str(net),
        prefixlen=net.prefixlen,
        gateway=str(ipaddress.IPv4Address(base + 1)),
        bridge=f"kf-{name}"[:15],
        hosts=tuple(planned),
    )


def netns_name(lab: str, host: str) -> str:
    """The network namespace of a host; the lab name in it keeps two labs apart."""
    return f"kf-{lab}-{host}"


def veth_name(lab: str, host: str) -> str:
    """The root-side veth of a host: a short hash, since interface names stop at 15 bytes."""
    digest = hashlib.sha1(f"{lab}/{host}".encode()).hexdigest()[:8]
    return f"kv{digest}"


def host_dir(lab_dir: str, host: str) -> str:
    """Where a host's overlay layers and its run files live."""
    return f"{lab_dir}/{host}"
