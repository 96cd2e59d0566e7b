"""group: a local group present with a gid, or absent (Ansible's ``group``).

One ``getent group`` probe; ``groupadd``/``groupmod``/``groupdel`` (shadow-utils, on
every Linux kubeform targets) make the change.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult


def getent_fact(database: str, key: str) -> Fact:
    """One ``getent`` line (empty when the entry does not exist)."""
    return Fact(
        key=f"getent:{database}:{key}",
        command=f"( getent {shlex.quote(database)} {shlex.quote(key)}; true )",
        parse=lambda out, rc: out.strip().splitlines()[0] if out.strip() else "",
    )


def parse_group(line: str) -> dict[str, Any] | None:
    """``name:x:gid:members`` -> dict, or None for no entry."""
    if not line:
        return None
    f = ([*line.split(":"), "", "", "", ""])[:4]
    return {"name": f[0], "gid": int(f[2]) if f[2].isdigit() else None, "members": [m for m in f[3].split(",") if m]}


class Group(Module):
    """Ansible's group: name, state, gid, system, non_unique, local."""

    name: ClassVar[str] = "group"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            "gid": {"type": ["integer", "string"]},
            "system": {"type": "boolean"},
            "non_unique": {"type": "boolean"},
            "local": {"type": "boolean"},
            "force": {"type": "boolean"},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [getent_fact("group", str(args["name"]))]

    @staticmethod
    def _gid(args: Mapping[str, Any]) -> int | None:
        gid = args.get("gid")
        if gid is None or gid == "":
            return None
        if not str(gid).isdigit():
            raise ModuleArgError(f"gid must be a number, not {gid!r}", field="gid")
        return int(gid)

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        name = str(args["name"])
        q = shlex.quote(name)
        current = parse_group(facts[f"getent:group:{name}"])
        gid = self._gid(args)
        if args.get("state", "present") == "absent":
            if current is None:
                return []
            force = "-f " if args.get("force") else ""
            return [Change("remove", f"remove group {name}", (Run(f"groupdel {force}{q}"),), Diff(f"group {name}", "present", "absent"))]
        flags = " -o" if args.get("non_unique") and gid is not None else ""
        if current is None:
            opts = (f" -g {gid}" if gid is not None else "") + flags + (" -r" if args.get("system") else "")
            after = f"present (gid {gid})" if gid is not None else "present"
            return [Change("add", f"add group {name}", (Run(f"groupadd{opts} {q} && getent group {q}"),), Diff(f"group {name}", "absent", after))]
        if gid is not None and current["gid"] != gid:
            return [Change("change", f"group {name}: gid {current['gid']} -> {gid}", (Run(f"groupmod -g {gid}{flags} {q}"),), Diff(f"group {name} gid", str(current["gid"]), str(gid)))]
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        current = parse_group(facts[f"getent:group:{args['name']}"])
        if steps and steps[-1].stdout.strip():  # groupadd printed the new entry
            current = parse_group(steps[-1].stdout.strip().splitlines()[-1])
        state = str(args.get("state", "present"))
        gid = self._gid(args)
        out: dict[str, Any] = {"name": args["name"], "state": state}
        if state == "present":
            out["gid"] = gid if gid is not None else (current["gid"] if current else None)
            out["system"] = bool(args.get("system", False))
        return out
