"""ping: the host answers and can run a shell (Ansible's ``ping``; no ICMP).

One probe (``echo pong``) in the task's batch, volatile so every ping really reaches the
host; ``data: crash`` fails the task, as Ansible's module raises on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

PROBE = Fact(key="ping", command="echo pong", parse=lambda out, rc: out.strip() == "pong" and rc == 0, volatile=True)


class Ping(Module):
    """Ansible's ping: ``data`` (default ``pong``) comes back as ``ping``."""

    name: ClassVar[str] = "ping"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {"data": {"type": "string"}},
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [PROBE]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if not facts[PROBE.key]:
            raise ModuleArgError("the host did not answer 'pong' to a shell command")
        if args.get("data") == "crash":
            raise ModuleArgError("boom (data: crash)", field="data")
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"ping": str(args.get("data", "pong"))}
