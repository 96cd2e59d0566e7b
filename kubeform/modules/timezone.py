"""timezone (community.general.timezone): the system time zone and the hardware clock's.

One probe reads what systemd's ``timedatectl`` says when it can (a booted systemd),
else the ``/etc/localtime`` link (and ``/etc/adjtime`` for the RTC), and whether the
requested zone exists in ``/usr/share/zoneinfo``. The change goes the same way:
``timedatectl set-timezone`` / ``set-local-rtc``, or, without a running systemd
(containers, chroots), the link plus ``/etc/timezone`` (Debian) or ``ZONE=`` in
``/etc/sysconfig/clock`` (EL 6/7) where that file exists, as Ansible's module does.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

ZONEINFO = "/usr/share/zoneinfo"


def zone_fact(name: str | None) -> Fact:
    check = f'[ -f {ZONEINFO}/{shlex.quote(name)} ] && echo exists=1; ' if name else ""
    cmd = (
        "( if tz=$(timedatectl show -p Timezone --value 2>/dev/null) && [ -n \"$tz\" ]; then "
        'echo systemd=1; echo "zone=$tz"; echo "rtc=$(timedatectl show -p LocalRTC --value)"; '
        'else echo "zone=$(readlink /etc/localtime | sed "s|.*/zoneinfo/||")"; '
        '[ -f /etc/adjtime ] && echo "rtc=$(sed -n 3p /etc/adjtime)"; '
        "[ -f /etc/timezone ] && echo debian=1; [ -f /etc/sysconfig/clock ] && echo clock=1; fi; "
        f"{check}true )"
    )
    return Fact(key=f"timezone:{name or ''}", command=cmd, parse=parse_zone)


def parse_zone(out: str, rc: int) -> dict[str, str]:
    vals: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            vals[key.strip()] = value.strip()
    rtc = vals.get("rtc", "")
    vals["hwclock"] = "local" if rtc in ("yes", "LOCAL") else "UTC" if rtc in ("no", "UTC") else ""
    return vals


class Timezone(Module):
    """Ansible's timezone: name (e.g. ``Europe/Berlin``), hwclock (``UTC`` or ``local``)."""

    name: ClassVar[str] = "timezone"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "hwclock": {"enum": ["local", "UTC", "utc", "LOCAL"]},
        },
        "anyOf": [{"required": ["name"]}, {"required": ["hwclock"]}],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [zone_fact(args.get("name"))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        name = args.get("name")
        cur: Mapping[str, str] = facts[zone_fact(name).key]
        systemd = cur.get("systemd") == "1"
        changes: list[Change] = []
        if name and str(name) != cur.get("zone"):
            if not cur.get("exists"):
                raise ModuleArgError(f"unknown time zone {name!r} (no {ZONEINFO}/{name} on the host)", field="name")
            q = shlex.quote(str(name))
            if systemd:
                steps: tuple[Run, ...] = (Run(f"timedatectl set-timezone {q}"),)
            else:
                steps = (Run(f"ln -sf {ZONEINFO}/{q} /etc/localtime"),)
                if cur.get("debian"):
                    steps += (Run(f"echo {q} > /etc/timezone"),)
                if cur.get("clock"):
                    steps += (Run(f"sed -i 's|^ZONE=.*|ZONE=\"'{q}'\"|' /etc/sysconfig/clock"),)
            changes.append(Change("change", f"time zone {cur.get('zone') or '(unset)'} -> {name}", steps, Diff("timezone", cur.get("zone") or "", str(name))))
        hwclock = args.get("hwclock")
        if hwclock:
            want = "local" if str(hwclock).lower() == "local" else "UTC"
            if want != cur.get("hwclock"):
                if systemd:
                    step = Run(f"timedatectl set-local-rtc {1 if want == 'local' else 0}")
                else:
                    word = "LOCAL" if want == "local" else "UTC"
                    step = Run(f"if [ -f /etc/adjtime ]; then sed -i '3s/.*/{word}/' /etc/adjtime; else printf '0.0 0 0.0\\n0\\n{word}\\n' > /etc/adjtime; fi")
                changes.append(Change("change", f"hardware clock in {want}", (step,), Diff("hwclock", cur.get("hwclock") or "", want)))
        return changes
