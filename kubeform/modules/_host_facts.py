"""The rest of ``setup``'s common facts: memory, mounts, CPUs, time, DNS, the user, IPv6,
per-interface facts, kernel command line and more, under Ansible's names and shapes.

``COMMAND`` adds ``== name`` sections to the system facts' one probe (same round trip);
``parse(parts)`` is pure and tolerant: a section the host could not give (no
``/sys/class/dmi`` in a container, no ``getconf``) yields Ansible's empty value.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

COMMAND = "; ".join(
    [
        "echo '== system'; uname -s; uname -v; uname -m; getconf LONG_BIT 2>/dev/null",
        "echo '== meminfo-all'; grep -E '^(MemTotal|MemFree|Buffers|Cached|SwapTotal|SwapFree|SwapCached):' /proc/meminfo",
        "echo '== cpuinfo'; grep -E '^(processor|vendor_id|model name|physical id|cpu cores|siblings)\\s*:' /proc/cpuinfo",
        # One line per real mount: device, mount point, type, options, then statvfs numbers.
        "echo '== mounts'; while read -r dev mnt fs opts _; do case \"$dev\" in /*|*:/*) "
        'm=$(printf "%b" "$mnt"); echo "$dev $mnt $fs $opts $(stat -f -c "%s %S %b %f %a %c %d" "$m" 2>/dev/null)";; esac; done < /proc/mounts',
        "echo '== uuids'; blkid -s UUID -o export 2>/dev/null | grep -E '^(DEVNAME|UUID)='",
        "echo '== addr6'; ip -o -6 addr show 2>/dev/null",
        "echo '== route6'; ip -6 route show default 2>/dev/null",
        "echo '== flags'; ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \\([^:@]*\\)[^<]*<\\([^>]*\\)>.*/\\1 \\2/p'",
        "echo '== uptime'; cut -d' ' -f1 /proc/uptime",
        "echo '== date'; date '+%Y|%m|%d|%H|%M|%S|%s|%Z|%z|%A|%w|%W|%B|%b|%a|%j'; date -u '+%Y-%m-%dT%H:%M:%SZ|%Y%m%dT%H%M%S'",
        "echo '== resolv'; cat /etc/resolv.conf 2>/dev/null",
        "echo '== cmdline'; cat /proc/cmdline 2>/dev/null",
        "echo '== machine-id'; cat /etc/machine-id 2>/dev/null",
        "echo '== user'; id -un; id -u; id -g; getent passwd \"$(id -un)\" | cut -d: -f5-7",
        "echo '== env'; env",
        "echo '== python3'; for p in python3 python /usr/libexec/platform-python; do "
        'if command -v "$p" >/dev/null 2>&1; then command -v "$p"; break; fi; done',
        "echo '== dmi'; for f in product_name sys_vendor product_version bios_version bios_date; do "
        'printf "%s=" $f; cat /sys/class/dmi/id/$f 2>/dev/null || echo; done',
        "echo '== lsb'; cat /etc/lsb-release 2>/dev/null",
        "echo '== apparmor'; [ -d /sys/kernel/security/apparmor ] && echo enabled",
        "echo '== fips'; cat /proc/sys/crypto/fips_enabled 2>/dev/null",
    ]
)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _mb(kib: Mapping[str, int], key: str) -> int:
    return kib.get(key, 0) // 1024


def memory(text: str) -> dict[str, Any]:
    kib: dict[str, int] = {}
    for line in _lines(text):
        m = re.match(r"^(\w+):\s+(\d+)", line)
        if m:
            kib[m.group(1)] = int(m.group(2))
    total, free = _mb(kib, "MemTotal"), _mb(kib, "MemFree")
    nocache_free = (kib.get("MemFree", 0) + kib.get("Buffers", 0) + kib.get("Cached", 0)) // 1024
    swap_total, swap_free = _mb(kib, "SwapTotal"), _mb(kib, "SwapFree")
    return {
        "ansible_memfree_mb": free,
        "ansible_swapfree_mb": swap_free,
        "ansible_memory_mb": {
            "real": {"total": total, "free": free, "used": total - free},
            "nocache": {"free": nocache_free, "used": total - nocache_free},
            "swap": {"total": swap_total, "free": swap_free, "used": swap_total - swap_free, "cached": _mb(kib, "SwapCached")},
        },
    }


def processors(text: str) -> dict[str, Any]:
    listing: list[str] = []
    physical: set[str] = set()
    cores = siblings = 0
    for line in _lines(text):
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "processor":
            listing.append(value)
        elif key in ("vendor_id", "model name"):
            listing.append(value)
        elif key == "physical id":
            physical.add(value)
        elif key == "cpu cores" and value.isdigit():
            cores = int(value)
        elif key == "siblings" and value.isdigit():
            siblings = int(value)
    count = len(physical) or (1 if listing else 0)
    cores = cores or 1
    return {
        "ansible_processor": listing,
        "ansible_processor_count": count,
        "ansible_processor_cores": cores,
        "ansible_processor_threads_per_core": max(1, siblings // cores) if siblings else 1,
        "ansible_processor_nproc": sum(1 for line in _lines(text) if line.startswith("processor")),
    }


def mounts(text: str, uuids_text: str) -> list[dict[str, Any]]:
    uuids: dict[str, str] = {}
    dev = ""
    for line in _lines(uuids_text):
        key, _, value = line.partition("=")
        if key == "DEVNAME":
            dev = value
        elif key == "UUID" and dev:
            uuids[dev] = value
    out = []
    for line in _lines(text):
        f = line.split()
        if len(f) < 4:
            continue
        entry: dict[str, Any] = {
            "device": f[0],
            "mount": f[1].replace("\\040", " ").replace("\\011", "\t"),
            "fstype": f[2],
            "options": f[3],
            "uuid": uuids.get(f[0], "N/A"),
        }
        nums = [int(n) for n in f[4:11] if n.lstrip("-").isdigit()]
        if len(nums) == 7:
            bsize, frsize, blocks, bfree, bavail, files, ffree = nums
            entry.update(
                size_total=frsize * blocks, size_available=frsize * bavail, block_size=bsize,
                block_total=blocks, block_available=bavail, block_used=blocks - bfree,
                inode_total=files, inode_available=ffree, inode_used=files - ffree,
            )  # fmt: skip
        out.append(entry)
    return out


def ipv6(addr_text: str, route_text: str) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """(all_ipv6_addresses + default_ipv6 facts, interface -> its IPv6 addresses)."""
    per_iface: dict[str, list[dict[str, str]]] = {}
    every: list[str] = []
    for line in _lines(addr_text):
        words = line.split()
        if len(words) < 4 or words[2] != "inet6":
            continue
        iface = ipaddress.IPv6Interface(words[3])
        scope = words[words.index("scope") + 1] if "scope" in words else ""
        name = words[1].split("@")[0]
        per_iface.setdefault(name, []).append({"address": str(iface.ip), "prefix": str(iface.network.prefixlen), "scope": scope})
        if not iface.ip.is_loopback:
            every.append(str(iface.ip))
    default: dict[str, Any] = {}
    for line in _lines(route_text):
        words = line.split()
        if words and words[0] == "default" and "dev" in words:
            dev = words[words.index("dev") + 1]
            mine = next((a for a in per_iface.get(dev, []) if a["scope"] == "global"), None)
            if mine:
                default = {**mine, "interface": dev, "gateway": words[words.index("via") + 1] if "via" in words else ""}
                break
    return {"ansible_all_ipv6_addresses": every, "ansible_default_ipv6": default}, per_iface


def interfaces(
    links: Mapping[str, Mapping[str, Any]], addrs4: list[dict[str, Any]], addrs6: Mapping[str, list[dict[str, str]]], flags_text: str
) -> dict[str, Any]:
    """``ansible_<iface>`` for every interface (``-`` and ``:`` become ``_``, as Ansible names them)."""
    flags: dict[str, list[str]] = {}
    for line in _lines(flags_text):
        name, _, rest = line.partition(" ")
        flags[name] = rest.split(",")
    out: dict[str, Any] = {}
    for name, link in links.items():
        mine = [a for a in addrs4 if a["interface"] == name]
        fact: dict[str, Any] = {
            "device": name,
            "active": "UP" in flags.get(name, []) or "LOWER_UP" in flags.get(name, []),
            "promisc": "PROMISC" in flags.get(name, []),
            "type": link.get("type", "unknown"),
            "mtu": link.get("mtu"),
        }
        if link.get("macaddress"):
            fact["macaddress"] = link["macaddress"]
        if mine:
            first = {k: v for k, v in mine[0].items() if k != "interface"}
            fact["ipv4"] = first
            if len(mine) > 1:
                fact["ipv4_secondaries"] = [{k: v for k, v in a.items() if k != "interface"} for a in mine[1:]]
        if name in addrs6:
            fact["ipv6"] = addrs6[name]
        out["ansible_" + re.sub(r"[-:.]", "_", name)] = fact
    return out


def date_time(text: str) -> dict[str, Any]:
    lines = _lines(text)
    if len(lines) < 2:
        return {}
    f = lines[0].split("|")
    utc = lines[1].split("|")
    if len(f) < 16 or len(utc) < 2:
        return {}
    year, month, day, hour, minute, second, epoch, tz, offset, weekday, wday_num, weeknumber, monthname, mon_short, wd_short, yday = f[:16]
    return {
        "year": year, "month": month, "day": day, "hour": hour, "minute": minute, "second": second,
        "epoch": epoch, "epoch_int": epoch, "date": f"{year}-{month}-{day}", "time": f"{hour}:{minute}:{second}",
        "iso8601": utc[0], "iso8601_basic": f"{year}{month}{day}T{hour}{minute}{second}",
        "iso8601_basic_short": f"{year}{month}{day}T{hour}{minute}{second}", "iso8601_micro": utc[0].replace("Z", ".000000Z"),
        "tz": tz, "tz_offset": offset, "tz_dst": tz, "weekday": weekday, "weekday_number": wday_num,
        "weeknumber": weeknumber, "monthname": monthname, "month_short": mon_short, "weekday_short": wd_short, "day_of_year": yday,
    }  # fmt: skip


def dns(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for line in _lines(text):
        if line.startswith(("#", ";")):
            continue
        words = line.split()
        if words[0] == "nameserver" and len(words) > 1:
            out.setdefault("nameservers", []).append(words[1])
        elif words[0] == "search":
            out["search"] = words[1:]
        elif words[0] == "domain" and len(words) > 1:
            out["domain"] = words[1]
        elif words[0] == "options":
            opts = out.setdefault("options", {})
            for opt in words[1:]:
                key, sep, value = opt.partition(":")
                opts[key] = value if sep else True
    return out


def cmdline(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(``ansible_cmdline``: last value wins, ``ansible_proc_cmdline``: repeats as lists)."""
    last: dict[str, Any] = {}
    every: dict[str, Any] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        val: Any = value if sep else True
        last[key] = val
        if key in every:
            every[key] = (every[key] if isinstance(every[key], list) else [every[key]]) + [val]
        else:
            every[key] = val
    return last, every


def _kv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip().strip('"')
    return out


def parse(parts: Mapping[str, str], links: Mapping[str, Mapping[str, Any]], addrs4: list[dict[str, Any]]) -> dict[str, Any]:
    """Pure: the facts of ``COMMAND``'s sections (``links``/``addrs4`` from the IPv4 parse)."""
    system = _lines(parts.get("system", ""))
    facts: dict[str, Any] = {
        "ansible_system": system[0] if system else "",
        "ansible_kernel_version": system[1] if len(system) > 1 else "",
        "ansible_machine": system[2] if len(system) > 2 else "",
        "ansible_userspace_bits": system[3] if len(system) > 3 else "",
    }
    facts.update(memory(parts.get("meminfo-all", "")))
    facts.update(processors(parts.get("cpuinfo", "")))
    facts["ansible_mounts"] = mounts(parts.get("mounts", ""), parts.get("uuids", ""))
    v6, per_iface = ipv6(parts.get("addr6", ""), parts.get("route6", ""))
    facts.update(v6)
    facts.update(interfaces(links, addrs4, per_iface, parts.get("flags", "")))
    uptime = _lines(parts.get("uptime", ""))
    facts["ansible_uptime_seconds"] = int(float(uptime[0])) if uptime and re.match(r"^\d+(\.\d+)?$", uptime[0]) else 0
    facts["ansible_date_time"] = date_time(parts.get("date", ""))
    facts["ansible_dns"] = dns(parts.get("resolv", ""))
    facts["ansible_cmdline"], facts["ansible_proc_cmdline"] = cmdline(parts.get("cmdline", ""))
    machine_id = _lines(parts.get("machine-id", ""))
    facts["ansible_machine_id"] = machine_id[0] if machine_id else ""
    user = _lines(parts.get("user", ""))
    if len(user) >= 3:
        gecos, home, shell = ([*(user[3] if len(user) > 3 else "::").split(":"), "", "", ""])[:3]
        facts.update(
            ansible_user_id=user[0], ansible_user_uid=int(user[1]) if user[1].isdigit() else user[1],
            ansible_user_gid=int(user[2]) if user[2].isdigit() else user[2], ansible_user_gecos=gecos,
            ansible_user_dir=home, ansible_user_shell=shell,
        )  # fmt: skip
    facts["ansible_env"] = {k: v for k, v in _kv(parts.get("env", "")).items() if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k)}
    python = _lines(parts.get("python3", ""))
    facts["ansible_python_interpreter_path"] = python[0] if python else ""
    dmi = _kv(parts.get("dmi", ""))
    facts.update(
        ansible_product_name=dmi.get("product_name") or "NA", ansible_system_vendor=dmi.get("sys_vendor") or "NA",
        ansible_product_version=dmi.get("product_version") or "NA", ansible_bios_version=dmi.get("bios_version") or "NA",
        ansible_bios_date=dmi.get("bios_date") or "NA",
    )  # fmt: skip
    lsb = _kv(parts.get("lsb", ""))
    facts["ansible_lsb"] = (
        {
            "id": lsb.get("DISTRIB_ID", ""), "release": lsb.get("DISTRIB_RELEASE", ""),
            "codename": lsb.get("DISTRIB_CODENAME", ""), "description": lsb.get("DISTRIB_DESCRIPTION", ""),
            "major_release": lsb.get("DISTRIB_RELEASE", "").split(".")[0],
        }
        if lsb
        else {}
    )
    facts["ansible_apparmor"] = {"status": "enabled" if "enabled" in parts.get("apparmor", "") else "disabled"}
    facts["ansible_fips"] = parts.get("fips", "").strip() == "1"
    facts["ansible_local"] = {}
    return facts
