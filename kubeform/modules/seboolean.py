"""seboolean: an SELinux boolean on or off, now and (``persistent``) across reboots.

Ansible's ``ansible.posix.seboolean``. One probe reads the boolean's runtime value
(``getsebool``) and, for ``persistent``, the value stored in the policy (``semanage
boolean -l``); ``setsebool [-P]`` changes whichever differs. As in Ansible, a host
without SELinux fails the task ("SELinux is disabled on this host") unless
``ignore_selinux_state`` is set, when there is nothing to do.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import HostUnfit
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run


def parse_boolean(stdout: str, rc: int) -> dict[str, Any]:
    """``{"selinux": bool, "current": bool|None, "persistent": bool|None}``."""
    out: dict[str, Any] = {"selinux": True, "current": None, "persistent": None}
    for line in stdout.splitlines():
        line = line.strip()
        if line == "selinux=no":
            out["selinux"] = False
        m = re.match(r"^(\S+)\s+-->\s+(on|off)$", line)
        if m:
            out["current"] = m.group(2) == "on"
        m = re.match(r"^(\S+)\s+\((on|off)\s*,\s*(on|off)\)", line)
        if m:
            out["persistent"] = m.group(3) == "on"
    return out


def _on(value: Any) -> bool:
    return str(value).lower() in ("true", "yes", "on", "1")


class SEBoolean(Module):
    """Ansible's seboolean: ``name``, ``state``, ``persistent``, ``ignore_selinux_state``."""

    name: ClassVar[str] = "seboolean"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "state"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
            "state": {"type": ["boolean", "string"]},
            "persistent": {"type": "boolean"},
            "ignore_selinux_state": {"type": "boolean"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        name = shlex.quote(str(args["name"]))
        cmd = (
            "if ! command -v getsebool >/dev/null 2>&1 || ! selinuxenabled 2>/dev/null; then echo selinux=no; "
            f"else getsebool {name} 2>&1; "
        )
        if args.get("persistent"):
            cmd += f"semanage boolean -l 2>/dev/null | grep -E '^{args['name']}[[:space:]]'; "
        cmd += "fi; true"
        return [Fact(f"seboolean:{args['name']}", cmd, parse_boolean)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts[f"seboolean:{args['name']}"]
        name = str(args["name"])
        if not found["selinux"]:
            if args.get("ignore_selinux_state"):
                return []
            raise HostUnfit("SELinux is disabled on this host (set ignore_selinux_state to skip)")
        if found["current"] is None:
            raise ModuleArgError(f"SELinux boolean {name} does not exist", field="name")
        want = _on(args["state"])
        persistent = bool(args.get("persistent"))
        differs = found["current"] != want or (persistent and found["persistent"] is not None and found["persistent"] != want)
        if not differs:
            return []
        word = "on" if want else "off"
        flag = "-P " if persistent else ""
        before = "on" if found["current"] else "off"
        return [Change("change", f"set SELinux boolean {name} {word}" + (" (persistent)" if persistent else ""),
                       (Run(f"setsebool {flag}{shlex.quote(name)} {word}"),), Diff(f"seboolean {name}", before, word))]  # fmt: skip
