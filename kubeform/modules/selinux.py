"""selinux: SELinux mode now (setenforce) and at boot (/etc/selinux/config).

Like Ansible's ``ansible.posix.selinux``: a runtime switch between enforcing and
permissive happens at once; turning SELinux off or on from/to ``disabled`` only takes
effect at the next boot, which the change summary and ``reboot_required`` say. A host
without SELinux (no ``getenforce``, e.g. Debian) already is "not enforcing": nothing to
do, unless the task asks to enforce, which is an error.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import HostUnfit, sections
from kubeform.modules.base import Change, Diff, Fact, Module, Run, StepResult, Upload

CONFIG = "/etc/selinux/config"


def parse_selinux(stdout: str, rc: int) -> dict[str, Any]:
    """``{"mode": "enforcing"|"permissive"|"disabled"|"absent", "config": text|None}``."""
    mode = "absent"
    for line in stdout.splitlines():
        if line.startswith("mode="):
            mode = line.split("=", 1)[1].strip().lower() or "absent"
            break
    parts = sections(stdout)
    config = parts.get("config")
    return {"mode": mode, "config": None if config is None else config + "\n"}


def set_config(text: str, key: str, value: str) -> str:
    """``text`` with ``KEY=value`` set (the first active line replaced, else appended)."""
    pattern = re.compile(rf"^\s*{key}\s*=.*$", re.MULTILINE)
    if pattern.search(text):
        return pattern.sub(f"{key}={value}", text, count=1)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + f"{key}={value}\n"


def reboot_required(state: str, mode: str) -> bool:
    """Whether the wanted state only takes effect after a reboot."""
    if mode == "absent":
        return False
    return (state == "disabled") != (mode == "disabled")


class SELinux(Module):
    """Ansible's ``selinux`` module (state, policy, configfile)."""

    name: ClassVar[str] = "selinux"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["state"],
        "properties": {
            "state": {"enum": ["enforcing", "permissive", "disabled"]},
            "policy": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "configfile": {"type": "string", "pattern": "^/"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        path = str(args.get("configfile", CONFIG))
        q = shlex.quote(path)
        cmd = (
            'if command -v getenforce >/dev/null 2>&1; then echo "mode=$(getenforce)"; '
            "else echo mode=absent; fi; "
            f"if [ -f {q} ]; then echo '== config'; cat {q}; fi"
        )
        return [Fact(f"selinux:{path}", cmd, parse_selinux)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = str(args.get("configfile", CONFIG))
        found: Mapping[str, Any] = facts[f"selinux:{path}"]
        state = str(args["state"])
        mode = str(found["mode"])
        if mode == "absent":
            if state == "enforcing":
                raise HostUnfit(
                    "SELinux is not available on this host (no getenforce): cannot enforce it"
                )
            return []
        changes: list[Change] = []
        later = " (reboot required)" if reboot_required(state, mode) else ""
        if mode == "permissive" and state == "enforcing":
            changes.append(
                Change(
                    "change",
                    "set SELinux enforcing now",
                    (Run("setenforce 1"),),
                    Diff("SELinux mode", "permissive", "enforcing"),
                )
            )
        elif mode == "enforcing" and state in ("permissive", "disabled"):
            changes.append(
                Change(
                    "change",
                    "set SELinux permissive now" + later,
                    (Run("setenforce 0"),),
                    Diff("SELinux mode", "enforcing", "permissive"),
                )
            )
        before = found["config"] or ""
        after = set_config(before, "SELINUX", state)
        if args.get("policy"):
            after = set_config(after, "SELINUXTYPE", str(args["policy"]))
        if after != before or found["config"] is None:
            changes.append(
                Change(
                    "change" if found["config"] is not None else "add",
                    f"set SELINUX={state} in {path}" + later,
                    (Upload(path, after.encode(), mode=0o644),),
                    Diff(path, found["config"], after),
                )
            )
        return changes

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        path = str(args.get("configfile", CONFIG))
        found = facts.get(f"selinux:{path}", {})
        mode = str(found.get("mode", "absent"))
        return {
            "state": args.get("state"),
            "reboot_required": reboot_required(str(args.get("state")), mode),
            "selinux_present": mode != "absent",
        }
