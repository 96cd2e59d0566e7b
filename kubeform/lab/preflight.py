"""Why a lab cannot start, decided before anything is touched.

Each check is a pure function of facts the shell gathered (effective uid, which
programs exist, ``ip -j addr``/``ip -j route`` output, other labs' state) and returns a
``UserError`` to raise, or None. One line, and what to do.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from kubeform.errors import UserError

# program -> Debian package that provides it
TOOLS: dict[str, str] = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "mount": "mount",
}


def check_root(euid: int) -> UserError | None:
    """Namespaces, bridges, mounts and nspawn all need root."""
    if euid != 0:
        return UserError(
            "kubeform lab needs root (it makes network namespaces, a bridge, mounts "
            "and systemd-nspawn machines)",
            hint="run it with sudo",
        )
    return None


def check_tools(present: Mapping[str, bool], need: Iterable[str]) -> UserError | None:
    """Name the Debian packages to install for every missing program, in one line."""
    missing = [tool for tool in need if not present.get(tool, False)]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(TOOLS.get(t, t) for t in missing))
    return UserError(
        f"missing {', '.join(missing)}",
        hint=f"install it: apt-get install {packages}",
    )


def _networks_of_addrs(ip_addr_json: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(interface, network) for every IPv4 address in ``ip -j addr`` output."""
    found = []
    for link in ip_addr_json:
        for info in link.get("addr_info", []):
            if info.get("family") != "inet":
                continue
            net = ipaddress.IPv4Interface(f"{info['local']}/{info['prefixlen']}").network
            found.append((str(link.get("ifname")), str(net)))
    return found


def check_subnet(
    lab: str,
    subnet: str,
    bridge: str,
    *,
    ip_addr_json: Sequence[Mapping[str, Any]],
    ip_route_json: Sequence[Mapping[str, Any]],
    other_labs: Mapping[str, str],
    nameservers: Sequence[str] = (),
) -> UserError | None:
    """The subnet must be free: no other lab on it, no interface or route into it.

    Our own bridge is allowed (a second ``lab up`` converges); the default route is
    ignored (it overlaps everything and is not a claim on the subnet). A nameserver this
    machine reaches through its default route is a claim all the same: the lab bridge's
    route would capture it and cut the machine's DNS (a wide ``--subnet 10.0.0.0/8``).
    """
    want = ipaddress.IPv4Network(subnet)
    for server in nameservers:
        try:
            addr = ipaddress.ip_address(server)
        except ValueError:
            continue
        if addr.version == 4 and addr in want:
            return UserError(
                f"subnet {subnet} is taken: it holds this machine's nameserver {server} "
                "(/etc/resolv.conf), whose traffic would go to the lab",
                field="--subnet",
                hint="pick another --subnet (for example 192.168.57.0/24)",
            )
    for other, other_subnet in sorted(other_labs.items()):
        if other != lab and ipaddress.IPv4Network(other_subnet).overlaps(want):
            return UserError(
                f"subnet {subnet} is taken by lab {other!r} ({other_subnet})",
                field="--subnet",
                hint=f"pick another --subnet, or `kubeform lab down --name {other}`",
            )
    for ifname, net in _networks_of_addrs(ip_addr_json):
        if ifname != bridge and ipaddress.IPv4Network(net).overlaps(want):
            return UserError(
                f"subnet {subnet} is taken: interface {ifname} has {net}",
                field="--subnet",
                hint="pick another --subnet (for example 192.168.57.0/24)",
            )
    for route in ip_route_json:
        dst = str(route.get("dst", ""))
        if dst in ("", "default") or ":" in dst:
            continue
        try:
            route_net = ipaddress.IPv4Network(dst, strict=False)
        except ValueError:
            continue
        if route.get("dev") != bridge and route_net.overlaps(want):
            return UserError(
                f"subnet {subnet} is taken: a route to {dst} via {route.get('dev', '?')}",
                field="--subnet",
                hint="pick another --subnet (for example 192.168.57.0/24)",
            )
    return None


def check_existing(
    lab: str,
    *,
    recorded_subnet: str | None,
    recorded_hosts: int | None,
    subnet: str,
    hosts: int,
) -> UserError | None:
    """A lab of this name already exists: same shape converges, another shape is refused."""
    if recorded_subnet is None:
        return None
    if recorded_subnet != subnet or recorded_hosts != hosts:
        return UserError(
            f"lab {lab!r} already exists with {recorded_hosts} hosts on {recorded_subnet}",
            field="--name",
            hint=f"`kubeform lab down --name {lab}` first, or choose another --name",
        )
    return None


def check_name(lab: str, *, has_state: bool, bridge: str, links: Sequence[str]) -> UserError | None:
    """A bridge of the lab's name without a lab: someone else's, or a lab's remains."""
    if not has_state and bridge in links:
        return UserError(
            f"interface {bridge} exists but there is no lab {lab!r}",
            field="--name",
            hint=f"choose another --name, or `kubeform lab down --name {lab}` if it is a "
            "lab's remains",
        )
    return None


def check_image_in_use(labs_using: Sequence[str]) -> UserError | None:
    """Rebuilding the base under running overlays would corrupt them."""
    if labs_using:
        names = ", ".join(sorted(labs_using))
        return UserError(
            f"the base image is in use by lab(s) {names}",
            field="--rebuild",
            hint="run `kubeform lab down --name NAME` for each first",
        )
    return None
