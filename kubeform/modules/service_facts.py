"""service_facts: systemd's services as ``ansible_facts.services`` (and ``services``).

Read-only, so it is real in a plan too. One probe, two listings, as Ansible's systemd
strategy reads them: ``systemctl list-units`` for what is loaded (``state`` is
``running`` when the sub-state is running, ``failed`` when the unit failed, else
``stopped``) and ``systemctl list-unit-files`` for boot enablement (``status``:
enabled, disabled, static, masked, ...). A unit file that is not loaded is listed with
state ``inactive``. Keys are unit names with their suffix (``sshd.service``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

PROBE = (
    "( command -v systemctl >/dev/null 2>&1 || exit 0; "
    "echo '== units'; systemctl list-units --no-pager --no-legend --type service --all --plain 2>/dev/null; "
    "echo '== files'; systemctl list-unit-files --no-pager --no-legend --type service --plain 2>/dev/null; true )"
)


def parse_services(stdout: str, rc: int) -> dict[str, dict[str, str]] | None:
    """Ansible's ``services`` mapping; None when the host has no systemctl."""
    parts = sections(stdout)
    if "units" not in parts:
        return None
    services: dict[str, dict[str, str]] = {}
    for line in parts["units"].splitlines():
        f = line.lstrip("● *").split()
        if len(f) < 4 or not f[0].endswith(".service"):
            continue
        unit, _load, active, sub = f[:4]
        state = "running" if sub == "running" else "failed" if active == "failed" else "stopped"
        services[unit] = {"name": unit, "state": state, "status": "unknown", "source": "systemd"}
    for line in parts.get("files", "").splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].endswith(".service"):
            continue
        unit, status = f[0], f[1]
        if unit in services:
            services[unit]["status"] = status
        else:
            services[unit] = {"name": unit, "state": "inactive", "status": status, "source": "systemd"}
    return services


class ServiceFacts(Module):
    """Ansible's service_facts (no arguments), for systemd hosts."""

    name: ClassVar[str] = "service_facts"
    fact_names: ClassVar[tuple[str, ...]] = ("services",)
    schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}

    FACT: ClassVar[Fact] = Fact(key="service_facts", command=PROBE, parse=parse_services)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [self.FACT]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if facts[self.FACT.key] is None:
            raise ModuleArgError("no systemctl on the host: service_facts reads systemd's units only")
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"ansible_facts": {"services": facts[self.FACT.key]}}
