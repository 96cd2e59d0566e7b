"""hostname: the host's name, now and across reboots (Ansible's ``ansible.builtin.hostname``).

One probe reads the running name (``hostname``) and the stored one (``/etc/hostname``).
With systemd (``use: systemd``, or found on the host) ``hostnamectl set-hostname`` sets
both; otherwise ``hostname`` plus ``/etc/hostname`` (``use: debian``/``generic``...).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult

USES = ["alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat", "sles", "solaris", "systemd"]


def parse_names(out: str, rc: int) -> dict[str, str]:
    vals: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            vals[key] = value.strip()
    return vals


class Hostname(Module):
    """``name`` and ``use`` (systemd, debian, redhat, alpine, generic...)."""

    name: ClassVar[str] = "hostname"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]*$"},
            "use": {"enum": USES},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        cmd = ("echo current=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname); "
               "echo stored=$(cat /etc/hostname 2>/dev/null | head -1); "
               "if command -v hostnamectl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then echo systemd=yes; fi")  # fmt: skip
        return [Fact("hostname", cmd, parse_names)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts["hostname"]
        name = str(args["name"])
        use = args.get("use")
        if use in ("freebsd", "macos", "macosx", "darwin", "openbsd", "solaris"):
            raise ModuleArgError(f"use: {use} is not supported (Linux hosts only)", field="use")
        systemd = use == "systemd" or (use is None and found.get("systemd") == "yes")
        if found.get("current") == name and found.get("stored", name) == name:
            return []
        q = shlex.quote(name)
        if systemd:
            steps: tuple[Run, ...] = (Run(f"hostnamectl set-hostname {q}"),)
        else:
            steps = (Run(f"hostname {q}"), Run(f"printf '%s\\n' {q} > /etc/hostname"))
        return [Change("change", f"set hostname to {name}", steps, Diff("hostname", found.get("current", ""), name))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        name = str(args["name"])
        short = name.split(".")[0]
        return {"name": name, "ansible_facts": {"ansible_hostname": short, "ansible_nodename": name, "ansible_fqdn": name, "ansible_domain": name.partition(".")[2]}}
