"""getent: entries of a name service database as ``ansible_facts.getent_<database>``.

Read-only, so real in a plan too. One ``getent`` call per task; each line becomes
``key: [the other fields]`` split on ``split`` (``:`` for passwd/group/shadow/gshadow,
whitespace otherwise), as Ansible's module shapes it. A missing ``key`` fails the task
unless ``fail_key: false``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

COLON_DATABASES = ("passwd", "group", "shadow", "gshadow")
DATABASES = ("passwd", "group", "shadow", "gshadow", "hosts", "ahosts", "ahostsv4", "ahostsv6", "services", "protocols",
             "networks", "rpc", "ethers", "aliases", "netgroup", "initgroups")  # fmt: skip


def getent_fact(database: str, key: str | None, service: str | None) -> Fact:
    cmd = "getent" + (f" -s {shlex.quote(service)}" if service else "") + f" {shlex.quote(database)}"
    if key is not None:
        cmd += f" {shlex.quote(key)}"
    return Fact(
        key=f"getent:{database}:{key or ''}:{service or ''}",
        command=f"( {cmd}; echo \"rc=$?\" )",
        parse=lambda out, rc: out,
    )


def parse_entries(out: str, database: str, split: str | None) -> tuple[dict[str, Any], int]:
    """(key -> fields, getent's exit code) from the probe's output."""
    lines = out.splitlines()
    code = 0
    if lines and lines[-1].startswith("rc="):
        code = int(lines.pop()[3:] or 0)
    sep = split if split is not None else (":" if database in COLON_DATABASES else None)
    entries: dict[str, Any] = {}
    for line in lines:
        if not line.strip():
            continue
        fields = line.split(sep) if sep else line.split()
        key, rest = fields[0], fields[1:]
        if key in entries and database in ("hosts", "ahosts", "ahostsv4", "ahostsv6", "services"):
            continue  # Ansible keeps the first entry of a repeated key
        entries[key] = rest
    return entries, code


class Getent(Module):
    """Ansible's getent: database, key, split, service, fail_key."""

    name: ClassVar[str] = "getent"
    fact_names: ClassVar[tuple[str, ...]] = tuple(f"getent_{d}" for d in DATABASES)
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "database": {"type": "string", "minLength": 1},
            "key": {"type": ["string", "integer"]},
            "split": {"type": "string"},
            "service": {"type": "string"},
            "fail_key": {"type": "boolean"},
        },
        "required": ["database"],
        "additionalProperties": False,
    }

    @staticmethod
    def _fact(args: Mapping[str, Any]) -> Fact:
        key = args.get("key")
        return getent_fact(str(args["database"]), None if key in (None, "") else str(key), args.get("service"))

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [self._fact(args)]

    def _entries(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
        database = str(args["database"])
        entries, code = parse_entries(facts[self._fact(args).key], database, args.get("split"))
        if code == 1:
            raise ModuleArgError("missing arguments, or database unknown", field="database")
        if code == 2 and args.get("fail_key", True):
            raise ModuleArgError(f"One or more supplied key could not be found in the database ({args.get('key')})", field="key")
        if code == 3:
            raise ModuleArgError("enumeration not supported on this database", field="database")
        return entries

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        self._entries(args, facts)
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"ansible_facts": {f"getent_{args['database']}": self._entries(args, facts)}}
