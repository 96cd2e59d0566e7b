"""zypper: packages on SUSE (Ansible's ``community.general.zypper``): present, latest, absent.

One probe asks rpm for every named package and, for ``latest``, zypper for the
available updates; the plan makes one ``zypper install`` for the missing, one
``zypper update`` for the outdated and one ``zypper remove`` (all non-interactive), as
Ansible's module does. A host without zypper fails the task ("zypper not found").
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run
from kubeform.modules.package import RPM_QF, as_list

NAMES = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string", "minLength": 1}}]}


def parse_zypper(out: str, rc: int) -> dict[str, Any]:
    """``{"zypper": bool, "installed": {name: version}, "updates": {name: version}}``."""
    found: dict[str, Any] = {"zypper": "zypper=missing" not in out, "installed": {}, "updates": {}}
    for head, body in sections(out).items():
        if head == "rpm":
            for line in body.splitlines():
                parts = line.split()
                if len(parts) == 3 and ":" in parts[1] and not line.startswith(("package ", "error")):
                    found["installed"][parts[0]] = parts[1].replace("(none):", "").removeprefix("0:")
        elif head == "updates":
            for line in body.splitlines():
                cols = [c.strip() for c in line.split("|")]
                if len(cols) >= 6 and cols[0] == "v":
                    found["updates"][cols[2]] = cols[4]
    return found


class Zypper(Module):
    """``name``, ``state``, ``update_cache``, ``disable_gpg_check``, ``force``, ``oldpackage``, ``extra_args``."""

    name: ClassVar[str] = "zypper"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": NAMES,
            "pkg": NAMES,
            "state": {"enum": ["present", "installed", "latest", "absent", "removed"]},
            "type": {"enum": ["package"]},
            "update_cache": {"type": "boolean"},
            "disable_gpg_check": {"type": "boolean"},
            "disable_recommends": {"type": "boolean"},
            "force": {"type": "boolean"},
            "oldpackage": {"type": "boolean"},
            "extra_args": {"type": "string"},
        },
    }

    @staticmethod
    def _names(args: Mapping[str, Any]) -> list[str]:
        names = as_list(args.get("name", args.get("pkg")))
        if not names:
            raise ModuleArgError("name is required", field="name")
        for n in names:
            if any(c in n for c in "<>=") or n.startswith(("-", "+")):
                raise ModuleArgError(f"version constraints and +/- prefixes are not supported ({n})", field="name")
        return names

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        names = self._names(args)
        q = " ".join(shlex.quote(n) for n in names)
        cmd = f"( if ! command -v zypper >/dev/null 2>&1; then echo zypper=missing; exit 0; fi; echo '== rpm'; rpm -q --qf '{RPM_QF}' {q} 2>&1"
        if args.get("state") == "latest":
            cmd += "; echo '== updates'; zypper --non-interactive --quiet list-updates 2>/dev/null"
        cmd += "; true )"
        return [Fact(f"zypper:{','.join(names)}{'+latest' if args.get('state') == 'latest' else ''}", cmd, parse_zypper)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        (fact,) = self.facts(args)
        found = facts[fact.key]
        if not found["zypper"]:
            raise ModuleArgError("zypper not found on the host (it is SUSE's package manager)")
        names = self._names(args)
        state = {"installed": "present", "removed": "absent"}.get(str(args.get("state", "present")), str(args.get("state", "present")))
        flags = ""
        if args.get("disable_gpg_check"):
            flags += " --no-gpg-checks"
        base = f"zypper --non-interactive{flags}"
        opts = (" --force" if args.get("force") else "") + (" --oldpackage" if args.get("oldpackage") else "")
        opts += " --no-recommends" if args.get("disable_recommends", True) else ""
        opts += f" {args['extra_args']}" if args.get("extra_args") else ""
        refresh = [Run(f"{base} refresh")] if args.get("update_cache") else []
        installed: Mapping[str, str] = found["installed"]
        if state == "absent":
            gone = [n for n in names if n in installed]
            if not gone:
                return []
            return [Change("remove", "remove " + ", ".join(gone), (Run(f"{base} remove {' '.join(shlex.quote(n) for n in gone)}"),),
                           Diff("packages", ", ".join(f"{n} {installed[n]}" for n in gone), "absent"))]  # fmt: skip
        changes = []
        missing = [n for n in names if n not in installed]
        if missing:
            changes.append(Change("add", "install " + ", ".join(missing),
                                  (*refresh, Run(f"{base} install{opts} {' '.join(shlex.quote(n) for n in missing)}")),
                                  Diff("packages", ", ".join(f"{n} absent" for n in missing), ", ".join(f"{n} present" for n in missing))))  # fmt: skip
            refresh = []
        if state == "latest":
            outdated = [n for n in names if n in installed and n in found["updates"]]
            if outdated:
                changes.append(Change("change", "upgrade " + ", ".join(outdated),
                                      (*refresh, Run(f"{base} update{opts} {' '.join(shlex.quote(n) for n in outdated)}")),
                                      Diff("packages", ", ".join(f"{n} {installed[n]}" for n in outdated),
                                           ", ".join(f"{n} {found['updates'][n]}" for n in outdated))))  # fmt: skip
        return changes
