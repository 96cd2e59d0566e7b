"""Test doubles for engine tests: a recording local connection, a pool, tiny modules.

The fake connection runs commands with the local /bin/sh (tests confine every path to
their tmp dir) and records each call, so tests can count round trips and check that a
plan ran no step. The tiny modules are test-only and deliberately small: they exercise
the engine's contract (facts, plan, steps, diffs, secrets) without the real modules.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from kubeform.engine.playbook import ModuleResolver
from kubeform.inventory.model import Host, Inventory
from kubeform.modules.base import (
    Change,
    Diff,
    Fact,
    Module,
    Run,
    Step,
    StepContext,
    StepResult,
    Upload,
)
from kubeform.transport.base import Unreachable
from tests.unit.fake_connection import RecordingConnection


class FakeConnection(RecordingConnection):
    """Runs commands locally and records them; ``put`` writes the file."""


class FakePool:
    """One FakeConnection per host; hosts named in ``unreachable`` cannot be reached."""

    def __init__(self, unreachable: set[str] | None = None) -> None:
        self.conns: dict[str, FakeConnection] = {}
        self.unreachable = unreachable or set()

    def get(self, host: Host) -> FakeConnection:
        if host.name in self.unreachable:
            raise Unreachable(f"{host.name}: connection refused")
        return self.conns.setdefault(host.name, FakeConnection(host.name))

    def reconnect(self, host: Host, timeout: float) -> FakeConnection:
        return self.get(host)

    def round_trips(self) -> int:
        return sum(len(c.commands) for c in self.conns.values())


def _file_fact(path: str) -> Fact:
    return Fact(
        key=f"tfile:{path}",
        command=f"cat {shlex.quote(path)}",
        parse=lambda out, rc: out if rc == 0 else None,
    )


class TFile(Module):
    """Test module: a file with exact text content."""

    name: ClassVar[str] = "tfile"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["path", "content"],
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string"},
            "content": {"type": "string"},
            "secret": {"type": "boolean"},
            "mode": {"type": ["string", "integer"]},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [_file_fact(args["path"])]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        before = facts[f"tfile:{args['path']}"]
        if before == args["content"]:
            return []
        return [
            Change(
                action="add" if before is None else "change",
                summary=f"write {args['path']}",
                steps=(Upload(args["path"], args["content"].encode()),),
                diff=Diff(args["path"], before, args["content"], secret=bool(args.get("secret"))),
            )
        ]


class TCmd(Module):
    """Test module: run a command unless ``creates`` exists (like command)."""

    name: ClassVar[str] = "tcmd"
    free_form: ClassVar[bool] = True
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"creates": {"type": "string"}},
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        if "creates" in args:
            return [Fact(f"exists:{args['creates']}", f"test -e {shlex.quote(args['creates'])}", lambda out, rc: rc == 0)]
        return []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if "creates" in args and facts[f"exists:{args['creates']}"]:
            return []
        return [Change(action="change", summary=f"run {args['_raw_params']}", steps=(Run(args["_raw_params"]),))]


class TValue(Module):
    """Test module: one-line before->after value kept in a file (like sysctl)."""

    name: ClassVar[str] = "tvalue"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["path", "value"],
        "properties": {"path": {"type": "string"}, "value": {"type": ["string", "integer"]}},
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [_file_fact(args["path"])]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        before = facts[f"tfile:{args['path']}"]
        after = str(args["value"])
        if before == after:
            return []
        return [
            Change(
                action="change",
                summary=f"set {args['path']} to {after}",
                steps=(Upload(args["path"], after.encode()),),
                diff=Diff(Path(args["path"]).name, before, after),
            )
        ]


def counter_command(path: str) -> str:
    """Appends a line to ``path`` and prints how many there are: each probe sees a new value."""
    q = shlex.quote(path)
    return f"echo x >> {q}; wc -l < {q}"


class TProbe(Module):
    """Test module: reports a volatile fact (a counter bumped by every probe); never changes."""

    name: ClassVar[str] = "tprobe"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["path"],
        "properties": {"path": {"type": "string"}},
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [
            Fact(
                f"probe:{args['path']}",
                counter_command(args["path"]),
                lambda out, rc: int(out.strip()),
                volatile=True,
            )
        ]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"value": facts[f"probe:{args['path']}"]}


class _Reconnect(Step):
    def describe(self) -> str:
        return "reconnect"

    def execute(self, ctx: StepContext) -> StepResult:
        ctx.reconnect(5)
        return StepResult()


class TReconnect(Module):
    """Test module: one step that drops and reopens the connection (like reboot)."""

    name: ClassVar[str] = "treconnect"
    schema: ClassVar[Mapping[str, Any]] = {"type": "object", "additionalProperties": False}

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        return [Change(action="change", summary="reconnect", steps=(_Reconnect(),))]


def counting_system_fact(path: str) -> Fact:
    """System facts whose ``ansible_kernel`` changes on every gathering (kernel-1, kernel-2, ...)."""
    return Fact(key="system", command=counter_command(path), parse=lambda out, rc: {"ansible_kernel": f"kernel-{out.strip()}"})


SYSTEM = Fact(
    key="system",
    command="printf 'Debian\\n12\\n'",
    parse=lambda out, rc: {
        "ansible_os_family": out.split()[0],
        "ansible_distribution_major_version": out.split()[1],
    },
)

TEST_MODULES: dict[str, type[Module]] = {
    "tfile": TFile, "tcmd": TCmd, "tvalue": TValue, "tprobe": TProbe, "treconnect": TReconnect,
}  # fmt: skip


def resolver() -> ModuleResolver:
    """Test modules first, then the real registry (for real-module unit tests)."""
    from kubeform.modules import lookup

    def find(name: str) -> type[Module] | None:
        return TEST_MODULES.get(name) or lookup(name)

    return find


def inventory(*names: str, **vars: Any) -> Inventory:
    """An inventory of hosts in group ``web`` (all hosts also in ``all``)."""
    inv = Inventory()
    for n in names:
        inv.hosts[n] = Host(name=n, vars=dict(vars), groups=["all", "web"])
    inv.groups = {"all": list(names), "web": list(names)}
    return inv


def select(inv: Inventory, pattern: str, limit: str | None = None) -> list[Host]:
    """A tiny pattern matcher: all / group / host names joined by ':' or ','."""
    out: list[str] = []
    for term in pattern.replace(",", ":").split(":"):
        out.extend(inv.groups.get(term, [term] if term in inv.hosts else []))
    hosts = [inv.hosts[n] for n in dict.fromkeys(out)]
    if limit:
        allowed = {h.name for h in select(inv, limit)}
        hosts = [h for h in hosts if h.name in allowed]
    return hosts
