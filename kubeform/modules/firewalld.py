"""firewalld: the firewalld daemon off (kubeform's default) or ports open in a zone.

kubeform's form of Ansible's ``ansible.posix.firewalld``: ``state: disabled`` without a
port stops and disables the daemon (the cluster writes its own iptables rules);
``port``/``ports`` with ``state: enabled|disabled`` open or close ports, permanently
and/or at once. A host without firewalld has no firewall to open: port tasks are then
nothing to do (said in the result's ``msg``), and asking to enable the daemon is an error.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import HostUnfit, sections
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult
from kubeform.modules.service import parse_show, plan_unit

PORT_PATTERN = r"^[0-9]{1,5}(-[0-9]{1,5})?/(tcp|udp|sctp|dccp)$"


def parse_firewalld(stdout: str, rc: int) -> dict[str, Any]:
    """Installed?, unit properties, running?, and the runtime/permanent port lists."""
    parts = sections(stdout)
    installed = any(line.strip() == "installed=yes" for line in stdout.splitlines())
    unit = parse_show(parts.get("unit", ""), 0)

    def ports(name: str) -> list[str] | None:
        if name not in parts:
            return None
        return parts[name].split()

    return {
        "installed": installed and unit.get("LoadState", "loaded") != "not-found",
        "unit": unit,
        "running": parts.get("state", "").strip() == "running",
        "runtime": ports("runtime"),
        "permanent": ports("permanent"),
    }


class Firewalld(Module):
    """firewalld daemon state, or ports in a zone (runtime and/or permanent)."""

    name: ClassVar[str] = "firewalld"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "state": {"enum": ["enabled", "disabled"]},
            "port": {"type": "string", "pattern": PORT_PATTERN},
            "ports": {"type": "array", "items": {"type": "string", "pattern": PORT_PATTERN}},
            "permanent": {"type": "boolean"},
            "immediate": {"type": "boolean"},
            "zone": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
            "source": {"type": "string", "pattern": r"^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$"},
            "service": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
        },
    }

    def _kind(self, args: Mapping[str, Any]) -> str:
        """What the task opens: ``port`` (port/ports), ``source`` (a CIDR) or ``service``."""
        kinds = [k for k in ("source", "service") if args.get(k)]
        if args.get("port") or args.get("ports"):
            kinds.insert(0, "port")
        if len(kinds) > 1:
            raise ModuleArgError(f"give one of port/ports, source and service (got {', '.join(kinds)})", field=kinds[1])
        return kinds[0] if kinds else "port"

    def _ports(self, args: Mapping[str, Any]) -> list[str]:
        """The items the task opens or closes (ports, a source or a service)."""
        kind = self._kind(args)
        if kind != "port":
            return [str(args[kind])]
        ports = list(args.get("ports") or [])
        if args.get("port"):
            ports.insert(0, str(args["port"]))
        return list(dict.fromkeys(ports))

    def _key(self, args: Mapping[str, Any]) -> str:
        zone = args.get("zone")
        return "firewalld" + (f":{zone}" if zone else "") + (f":{self._kind(args)}s" if self._ports(args) else "")

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        zone = f" --zone={shlex.quote(str(args['zone']))}" if args.get("zone") else ""
        cmd = (
            "if command -v firewall-cmd >/dev/null 2>&1; then echo installed=yes; "
            "else echo installed=no; fi; "
            "echo '== unit'; systemctl show firewalld -p LoadState,ActiveState,UnitFileState "
            "2>/dev/null; "
            "echo '== state'; firewall-cmd --state 2>&1"
        )
        if self._ports(args):
            listing = f"--list-{self._kind(args)}s"
            cmd += (
                f"; echo '== runtime'; firewall-cmd{zone} {listing} 2>/dev/null"
                f"; echo '== permanent'; firewall-cmd --permanent{zone} {listing} 2>/dev/null"
                f" || firewall-offline-cmd{zone} {listing} 2>/dev/null"
            )
        return [Fact(self._key(args), cmd + "; true", parse_firewalld)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found: Mapping[str, Any] = facts[self._key(args)]
        ports = self._ports(args)
        if not ports:
            return self._plan_daemon(args, found)
        if not found["installed"]:
            return []
        return self._plan_ports(args, found, ports)

    def _plan_daemon(self, args: Mapping[str, Any], found: Mapping[str, Any]) -> list[Change]:
        state = args.get("state")
        if state is None:
            raise ModuleArgError("give state (enabled/disabled) or port/ports", field="state")
        if not found["installed"]:
            if state == "enabled":
                raise HostUnfit("firewalld is not installed: install it first (package)")
            return []
        want = (
            {"state": "started", "enabled": True}
            if state == "enabled"
            else {
                "state": "stopped",
                "enabled": False,
            }
        )
        return plan_unit("firewalld", found["unit"], want)

    def _plan_ports(
        self, args: Mapping[str, Any], found: Mapping[str, Any], ports: list[str]
    ) -> list[Change]:
        add = args.get("state", "enabled") == "enabled"
        zone_arg = f" --zone={shlex.quote(str(args['zone']))}" if args.get("zone") else ""
        zone_name = str(args.get("zone") or "default zone")
        kind = self._kind(args)
        flag = f"--add-{kind}" if add else f"--remove-{kind}"
        changes: list[Change] = []
        layers = []
        if args.get("permanent", True):
            tool = "firewall-cmd --permanent" if found["running"] else "firewall-offline-cmd"
            layers.append(("permanent", tool, found["permanent"] or []))
        if args.get("immediate", True) and found["running"]:
            layers.append(("runtime", "firewall-cmd", found["runtime"] or []))
        for layer, tool, current in layers:
            todo = [p for p in ports if (p in current) != add]
            if not todo:
                continue
            after = [*current, *todo] if add else [p for p in current if p not in todo]
            flags = " ".join(f"{flag}={p}" for p in todo)
            verb = "open" if add else "close"
            changes.append(
                Change(
                    "change",
                    f"{verb} {', '.join(todo)} in firewalld ({layer}, {zone_name})",
                    (Run(f"{tool}{zone_arg} {flags}"),),
                    Diff(
                        f"firewalld {layer} {kind}s ({zone_name})", " ".join(current), " ".join(after)
                    ),
                )
            )
        return changes

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        found = facts.get(self._key(args), {})
        if self._ports(args) and not found.get("installed", True):
            return {"msg": "firewalld is not installed: no firewall to open ports in"}
        if self._ports(args) and not found.get("running", True):
            return {"msg": "firewalld is not running: only the permanent configuration changed"}
        return {}
