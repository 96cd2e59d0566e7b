"""facts (setup, gather_facts): the host's system facts under Ansible's names.

``SYSTEM_FACTS`` is one shell command that prints everything (os-release, kernel,
memory, addresses, SELinux, virtualization, package manager, python) in ``== name``
sections, and a pure parser that turns it into ``ansible_*`` facts, so templates and
``when:`` written for Ansible work unchanged. The probe uses ``ip -o`` (one line per
address) because CentOS 7's iproute has no JSON output (``ip -j``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from kubeform.modules import _host_facts as host_facts
from kubeform.modules._el import DETECT_CONTAINER, container_kind, parse_os_release, sections
from kubeform.modules.base import Change, Fact, Module, StepResult

SYSTEM_COMMAND = "; ".join(
    [
        "echo '== os-release'; cat /etc/os-release 2>/dev/null",
        "echo '== redhat-release'; cat /etc/redhat-release 2>/dev/null",
        "echo '== debian_version'; cat /etc/debian_version 2>/dev/null",
        "echo '== uname'; uname -r; uname -m",
        "echo '== hostname'; hostname; hostname -f 2>/dev/null || hostname",
        "echo '== cpus'; grep -c '^processor' /proc/cpuinfo",
        "echo '== meminfo'; grep -E '^(MemTotal|SwapTotal):' /proc/meminfo",
        "echo '== route'; ip -4 route show default 2>/dev/null",
        "echo '== addr'; ip -o -4 addr show 2>/dev/null",
        "echo '== link'; ip -o link show 2>/dev/null",
        "echo '== selinux'; if command -v getenforce >/dev/null 2>&1; then getenforce; "
        "else echo absent; fi; grep -E '^SELINUX(TYPE)?=' /etc/selinux/config 2>/dev/null",
        "echo '== init'; cat /proc/1/comm 2>/dev/null",
        "echo '== virt'; systemd-detect-virt 2>/dev/null",
        f"echo '== container'; {DETECT_CONTAINER}",
        "echo '== pkg'; for m in dnf yum apt-get zypper; do "
        'if command -v "$m" >/dev/null 2>&1; then echo "$m"; break; fi; done',
        "echo '== python'; (python3 --version || python --version) 2>&1 | grep '^Python'",
        host_facts.COMMAND,
        "true",
    ]
)

DISTRIBUTIONS = {
    "centos": "CentOS",
    "rocky": "Rocky",
    "rhel": "RedHat",
    "almalinux": "AlmaLinux",
    "ol": "OracleLinux",
    "fedora": "Fedora",
    "debian": "Debian",
    "ubuntu": "Ubuntu",
}
REDHAT_IDS = {"centos", "rocky", "rhel", "almalinux", "ol", "fedora", "scientific"}
# systemd-detect-virt names -> Ansible's ansible_virtualization_type values.
VIRT_TYPES = {"oracle": "virtualbox", "vmware": "VMware", "microsoft": "VirtualPC", "qemu": "kvm"}
PKG_MGRS = {"apt-get": "apt"}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _distribution(parts: Mapping[str, str]) -> dict[str, Any]:
    osr = parse_os_release(parts.get("os-release", ""))
    os_id = osr.get("ID", "").lower()
    like = set(osr.get("ID_LIKE", "").lower().split())
    dist = DISTRIBUTIONS.get(os_id, osr.get("NAME", "") or "Unknown")
    if os_id in REDHAT_IDS or like & REDHAT_IDS:
        family = "RedHat"
    elif os_id == "debian" or "debian" in like:
        family = "Debian"
    else:
        family = dist
    version = osr.get("VERSION_ID", "")
    release = osr.get("VERSION_CODENAME", "")
    rh = parts.get("redhat-release", "").strip()
    match = re.search(r"release (\d+)\.(\d+)", rh)
    if os_id == "centos" and match:  # os-release says only "7"; Ansible reports "7.9"
        version = f"{match.group(1)}.{match.group(2)}"
    deb = parts.get("debian_version", "").strip()
    if os_id == "debian" and re.fullmatch(r"\d+(\.\d+)*", deb):
        version = deb
    if not release:
        paren = re.search(r"\(([^)]*)\)", rh or osr.get("VERSION", ""))
        release = paren.group(1) if paren else ""
    variety = {"RedHat": "RedHat", "Debian": "Debian"}.get(family) or (
        "SUSE" if "suse" in os_id or "suse" in like else "Archlinux" if os_id == "arch" else dist
    )
    return {
        "ansible_os_family": family,
        "ansible_distribution_file_variety": variety,
        "ansible_distribution": dist,
        "ansible_distribution_version": version,
        "ansible_distribution_major_version": version.split(".")[0] if version else "",
        "ansible_distribution_release": release,
    }


def _links(text: str) -> dict[str, dict[str, Any]]:
    """``ip -o link``: name -> {macaddress, mtu, type} (``host0@if5`` -> ``host0``)."""
    out: dict[str, dict[str, Any]] = {}
    for line in _lines(text):
        m = re.match(r"^\d+:\s+([^:]+):\s+<[^>]*>(.*)$", line)
        if not m:
            continue
        name = m.group(1).split("@")[0]
        rest = m.group(2)
        mtu = re.search(r"\bmtu (\d+)", rest)
        link = re.search(r"link/(\S+)(?: (\S+))?", rest)
        out[name] = {
            "device": name,
            "mtu": int(mtu.group(1)) if mtu else None,
            "type": link.group(1) if link else "unknown",
            "macaddress": link.group(2) if link and link.group(2) else "",
        }
    return out


def _addresses(text: str) -> list[dict[str, Any]]:
    """``ip -o -4 addr``: one dict per address, in the kernel's order."""
    out = []
    for line in _lines(text):
        words = line.split()
        if len(words) < 4 or words[2] != "inet":
            continue
        iface = ipaddress.IPv4Interface(words[3])
        brd = words[words.index("brd") + 1] if "brd" in words else ""
        out.append(
            {
                "interface": words[1].split("@")[0],
                "address": str(iface.ip),
                "prefix": str(iface.network.prefixlen),
                "netmask": str(iface.netmask),
                "network": str(iface.network.network_address),
                "broadcast": brd,
            }
        )
    return out


def _network(parts: Mapping[str, str]) -> dict[str, Any]:
    links = _links(parts.get("link", ""))
    addrs = _addresses(parts.get("addr", ""))
    default: dict[str, Any] = {}
    for line in _lines(parts.get("route", "")):
        words = line.split()
        if words and words[0] == "default" and "dev" in words:
            iface = words[words.index("dev") + 1]
            gateway = words[words.index("via") + 1] if "via" in words else ""
            mine = next((a for a in addrs if a["interface"] == iface), None)
            if mine:
                default = {**mine, "gateway": gateway}
                default.update(
                    {k: links.get(iface, {}).get(k) for k in ("macaddress", "mtu", "type")}
                )
                default["alias"] = iface
                break
    return {
        "ansible_default_ipv4": default,
        "ansible_all_ipv4_addresses": [
            a["address"] for a in addrs if not ipaddress.IPv4Address(a["address"]).is_loopback
        ],
        "ansible_interfaces": sorted(links),
    }


def _selinux(text: str) -> dict[str, Any]:
    lines = _lines(text)
    mode = lines[0].lower() if lines else "absent"
    config = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    if mode in ("absent", "disabled"):
        return {"status": "disabled"}
    return {
        "status": "enabled",
        "mode": mode,
        "config_mode": config.get("SELINUX", "").strip(),
        "type": config.get("SELINUXTYPE", "").strip(),
    }


def _virtualization(parts: Mapping[str, str]) -> dict[str, str]:
    container = container_kind(parts.get("container", ""))
    if container:
        return {"ansible_virtualization_type": container, "ansible_virtualization_role": "guest"}
    virt = next((w for w in _lines(parts.get("virt", "")) if w != "none"), "")
    if virt:
        return {
            "ansible_virtualization_type": VIRT_TYPES.get(virt, virt),
            "ansible_virtualization_role": "guest",
        }
    return {"ansible_virtualization_type": "NA", "ansible_virtualization_role": "NA"}


def _kib_to_mb(meminfo: str, key: str) -> int:
    m = re.search(rf"^{key}:\s+(\d+)\s*kB", meminfo, re.MULTILINE)
    return int(m.group(1)) // 1024 if m else 0


def parse_system_facts(stdout: str, rc: int) -> dict[str, Any]:
    """Pure: the output of ``SYSTEM_COMMAND`` as Ansible-named facts."""
    parts = sections(stdout)
    facts: dict[str, Any] = _distribution(parts)
    uname = _lines(parts.get("uname", ""))
    host = _lines(parts.get("hostname", ""))
    hostname = host[0] if host else ""
    fqdn = host[1] if len(host) > 1 else hostname
    cpus = _lines(parts.get("cpus", ""))
    meminfo = parts.get("meminfo", "")
    init = _lines(parts.get("init", ""))
    pkg = _lines(parts.get("pkg", ""))
    python = re.search(r"Python (\d+\.\d+\.\d+)", parts.get("python", ""))
    facts.update(
        {
            "ansible_kernel": uname[0] if uname else "",
            "ansible_architecture": uname[1] if len(uname) > 1 else "",
            "ansible_hostname": hostname.split(".")[0],
            "ansible_nodename": hostname,
            "ansible_fqdn": fqdn,
            "ansible_domain": fqdn.split(".", 1)[1] if "." in fqdn else "",
            "ansible_processor_vcpus": int(cpus[0]) if cpus and cpus[0].isdigit() else 0,
            "ansible_memtotal_mb": _kib_to_mb(meminfo, "MemTotal"),
            "ansible_swaptotal_mb": _kib_to_mb(meminfo, "SwapTotal"),
            "ansible_selinux": _selinux(parts.get("selinux", "")),
            "ansible_service_mgr": init[0] if init else "",
            "ansible_pkg_mgr": PKG_MGRS.get(pkg[0], pkg[0]) if pkg else "unknown",
            "ansible_python_version": python.group(1) if python else "",
        }
    )
    facts.update(_network(parts))
    facts.update(_virtualization(parts))
    facts.update(host_facts.parse(parts, _links(parts.get("link", "")), _addresses(parts.get("addr", ""))))
    version = [*facts["ansible_python_version"].split("."), "0", "0", "0"]
    facts["ansible_python"] = {
        "executable": facts.pop("ansible_python_interpreter_path"), "type": "CPython",
        "version": {"major": int(version[0] or 0), "minor": int(version[1]), "micro": int(version[2]), "releaselevel": "final", "serial": 0},
    }  # fmt: skip
    return facts


SYSTEM_FACTS = Fact(key="system", command=SYSTEM_COMMAND, parse=parse_system_facts)


class Facts(Module):
    """Ansible's ``setup``: gathers ``SYSTEM_FACTS``; never changes the host."""

    name: ClassVar[str] = "facts"
    aliases: ClassVar[tuple[str, ...]] = ("setup", "gather_facts")
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "filter": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
            "gather_subset": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
            },
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [SYSTEM_FACTS]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        return []

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        gathered: dict[str, Any] = dict(facts.get(SYSTEM_FACTS.key) or {})
        patterns = args.get("filter")
        if patterns:
            wanted = [patterns] if isinstance(patterns, str) else list(patterns)
            gathered = {k: v for k, v in gathered.items() if any(fnmatchcase(k, p) for p in wanted)}
        return {"ansible_facts": gathered}
