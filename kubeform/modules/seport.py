"""seport: SELinux network port types (``community.general.seport``).

One probe lists the policy's port labels (``semanage port -l``); ports missing from
``setype`` are added (``semanage port -a``, or ``-m`` when another type holds them),
``absent`` deletes them. As in Ansible, a host without SELinux fails the task unless
``ignore_selinux_state`` is set.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import HostUnfit
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run


def parse_ports(out: str, rc: int) -> dict[str, Any]:
    """``{"selinux": bool, "labels": {(proto, port): setype}}`` (ranges kept as written)."""
    found: dict[str, Any] = {"selinux": "selinux=no" not in out, "labels": {}}
    for line in out.splitlines():
        m = re.match(r"^(\S+)\s+(tcp|udp|dccp|sctp)\s+(.+)$", line.strip())
        if not m:
            continue
        for port in m.group(3).split(","):
            found["labels"][(m.group(2), port.strip())] = m.group(1)
    return found


def port_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    ports = [p.strip() for p in items if p.strip()]
    for p in ports:
        if not re.fullmatch(r"\d{1,5}(-\d{1,5})?", p):
            raise ModuleArgError(f"port {p!r} is not a port or a range (8080-8090)", field="ports")
    return ports


class SEPort(Module):
    """``ports``, ``proto``, ``setype``, ``state``, ``reload``, ``ignore_selinux_state``."""

    name: ClassVar[str] = "seport"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["ports", "proto", "setype"],
        "properties": {
            "ports": {"anyOf": [{"type": ["string", "integer"]}, {"type": "array", "items": {"type": ["string", "integer"]}}]},
            "proto": {"enum": ["tcp", "udp", "dccp", "sctp"]},
            "setype": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
            "state": {"enum": ["present", "absent"]},
            "reload": {"type": "boolean"},
            "ignore_selinux_state": {"type": "boolean"},
            "local": {"type": "boolean"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        cmd = ("( if ! command -v semanage >/dev/null 2>&1 || ! selinuxenabled 2>/dev/null; then echo selinux=no; "
               "else semanage port -l 2>/dev/null; fi; true )")  # fmt: skip
        return [Fact("seport", cmd, parse_ports)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts["seport"]
        if not found["selinux"]:
            if args.get("ignore_selinux_state"):
                return []
            raise HostUnfit("SELinux is disabled on this host (set ignore_selinux_state to skip)")
        proto, setype = str(args["proto"]), str(args["setype"])
        ports = port_list(args["ports"] if not isinstance(args["ports"], int) else str(args["ports"]))
        labels: Mapping[tuple[str, str], str] = found["labels"]
        changes = []
        for port in ports:
            have = labels.get((proto, port))
            if args.get("state", "present") == "absent":
                if have == setype:
                    changes.append(Change("remove", f"remove {proto}/{port} from {setype}", (Run(f"semanage port -d -t {setype} -p {proto} {shlex.quote(port)}"),),
                                          Diff(f"seport {proto}/{port}", setype, None)))  # fmt: skip
                continue
            if have == setype:
                continue
            flag = "-m" if have else "-a"
            changes.append(Change("change" if have else "add", f"label {proto}/{port} {setype}", (Run(f"semanage port {flag} -t {setype} -p {proto} {shlex.quote(port)}"),),
                                  Diff(f"seport {proto}/{port}", have, setype)))  # fmt: skip
        return changes
