"""service (systemd, systemd_service): a unit's running state, boot enablement and mask.

One ``systemctl show`` gives every property the plan needs, so a service task costs one
probe. A unit that is not loaded yet (installed by an earlier task of the same run) is
planned as if it existed: plan mode of "install docker, start docker" must not fail on
the second task; apply then reports systemctl's own error if the unit never appears.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

PROPERTIES = "Id,LoadState,ActiveState,SubState,UnitFileState,NeedDaemonReload"
# UnitFileState values that count as "enabled" (static units start as dependencies and
# cannot be enabled, as Ansible's systemd module also treats them).
ENABLED_STATES = {"enabled", "enabled-runtime", "static", "alias", "generated", "indirect"}
DISABLEABLE = {"enabled", "enabled-runtime", "linked", "linked-runtime", "alias"}
RUNNING = {"active", "activating", "reloading"}


def service_fact(name: str) -> Fact:
    """``systemctl show`` of one unit, parsed into a property dict."""
    return Fact(
        key=f"service:{name}",
        command=f"systemctl show {shlex.quote(name)} -p {PROPERTIES} 2>/dev/null",
        parse=parse_show,
    )


def parse_show(stdout: str, rc: int) -> dict[str, str]:
    """``Key=Value`` lines of ``systemctl show``; empty when systemctl failed."""
    props: dict[str, str] = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


class Service(Module):
    """Ansible's ``service``/``systemd`` for systemd hosts (the only init kubeform targets)."""

    name: ClassVar[str] = "service"
    aliases: ClassVar[tuple[str, ...]] = ("systemd", "systemd_service")
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "state": {"enum": ["started", "stopped", "restarted", "reloaded"]},
            "enabled": {"type": "boolean"},
            "masked": {"type": "boolean"},
            "daemon_reload": {"type": "boolean"},
            "daemon_reexec": {"type": "boolean"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        name = args.get("name")
        return [service_fact(str(name))] if name else []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        name = args.get("name")
        wants = [k for k in ("state", "enabled", "masked") if args.get(k) is not None]
        if wants and not name:
            raise ModuleArgError(f"{wants[0]} needs the unit's name", field="name")
        if not name and not args.get("daemon_reload") and not args.get("daemon_reexec"):
            raise ModuleArgError(
                "give name with state/enabled/masked, or daemon_reload", field="name"
            )
        changes: list[Change] = []
        props: Mapping[str, str] = facts.get(f"service:{name}", {}) if name else {}
        if name:
            changes = plan_unit(str(name), props, args)
        reload_steps: list[Run] = []
        if args.get("daemon_reexec"):
            reload_steps.append(Run("systemctl daemon-reexec"))
        if args.get("daemon_reload"):
            reload_steps.append(Run("systemctl daemon-reload"))
        if reload_steps:
            if changes:
                first = changes[0]
                changes[0] = Change(
                    first.action, first.summary, (*reload_steps, *first.steps), first.diff
                )
            elif not name or props.get("NeedDaemonReload") == "yes":
                changes.append(
                    Change(
                        "change", "reload the systemd manager configuration", tuple(reload_steps)
                    )
                )
        return changes


def _systemctl(
    verb: str, name: str, summary: str, diff: tuple[str, str, str] | None = None
) -> Change:
    """One ``systemctl VERB unit`` change; ``diff`` is (label suffix, before, after)."""
    shown = None
    if diff is not None:
        label, before, after = diff
        shown = Diff(f"service {name}{label}", before, after)
    return Change("change", summary, (Run(f"systemctl {verb} {shlex.quote(name)}"),), shown)


def plan_unit(name: str, props: Mapping[str, str], args: Mapping[str, Any]) -> list[Change]:
    """Pure: mask, enable and run-state changes for one unit, in the order systemd needs."""
    load = props.get("LoadState", "")
    active = props.get("ActiveState", "inactive")
    unit_file = props.get("UnitFileState", "")
    missing = load in ("", "not-found")
    note = " (unit not loaded yet)" if missing else ""
    changes: list[Change] = []
    masked = args.get("masked")
    if masked is True and load != "masked":
        changes.append(_systemctl("mask", name, f"mask {name}", (" masked", "no", "yes")))
    if masked is False and load == "masked":
        changes.append(_systemctl("unmask", name, f"unmask {name}", (" masked", "yes", "no")))
    is_masked = load == "masked" if masked is None else bool(masked)
    enabled = args.get("enabled")
    if enabled is True and unit_file not in ENABLED_STATES:
        if is_masked:
            raise ModuleArgError(f"cannot enable {name}: the unit is masked", field="enabled")
        changes.append(
            _systemctl(
                "enable",
                name,
                f"enable {name}{note}",
                (" enabled", unit_file or "unknown", "enabled"),
            )
        )
    if enabled is False and unit_file in DISABLEABLE:
        changes.append(
            _systemctl("disable", name, f"disable {name}", (" enabled", unit_file, "disabled"))
        )
    state = args.get("state")
    running = active in RUNNING
    if state in ("started", "restarted", "reloaded") and is_masked:
        raise ModuleArgError(f"cannot start {name}: the unit is masked", field="state")
    if state == "started" and not running:
        changes.append(_systemctl("start", name, f"start {name}{note}", ("", active, "active")))
    elif state == "stopped" and (running or active == "deactivating"):
        changes.append(_systemctl("stop", name, f"stop {name}", ("", active, "inactive")))
    elif state == "restarted":
        changes.append(_systemctl("restart", name, f"restart {name}"))
    elif state == "reloaded":
        verb = "reload" if running else "start"
        changes.append(_systemctl(verb, name, f"{verb} {name}{note}"))
    return changes
