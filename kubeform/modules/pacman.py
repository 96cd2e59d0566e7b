"""pacman (community.general.pacman): Arch Linux packages present, absent or newest.

One probe asks ``pacman -Q`` for every named package and, for ``latest``, the sync
database's version (``pacman -Si``; refreshed first by the step when
``update_cache``). The plan makes one ``pacman -S`` for everything missing or
outdated and one ``pacman -R`` for everything to remove, as Ansible's module batches
them. Groups and package files are not resolved (name packages).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, StepResult
from kubeform.modules.package import as_list

PRESENT = ("present", "installed")
ABSENT = ("absent", "removed")


def pacman_fact(names: list[str], latest: bool) -> Fact:
    q = " ".join(shlex.quote(n) for n in names)
    remote = f"echo '== sync'; LC_ALL=C pacman -Si {q} 2>/dev/null | sed -n 's/^\\(Name\\|Version\\) *: //p'; " if latest else ""
    return Fact(
        key=f"pacman:{','.join(names)}:{int(latest)}",
        command=f"( command -v pacman >/dev/null 2>&1 || {{ echo '== nopacman'; exit 0; }}; echo '== local'; pacman -Q {q} 2>/dev/null; {remote}true )",
        parse=parse_pacman,
    )


def parse_pacman(out: str, rc: int) -> dict[str, Any]:
    parts = sections(out)
    installed = {}
    for line in parts.get("local", "").splitlines():
        words = line.split()
        if len(words) == 2:
            installed[words[0]] = words[1]
    sync_lines = [ln.strip() for ln in parts.get("sync", "").splitlines() if ln.strip()]
    available = dict(zip(sync_lines[0::2], sync_lines[1::2], strict=False))
    return {"pacman": "nopacman" not in parts, "installed": installed, "available": available}


class Pacman(Module):
    """Ansible's pacman: name, state, update_cache, upgrade, extra_args, force."""

    name: ClassVar[str] = "pacman"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "state": {"enum": [*PRESENT, *ABSENT, "latest"]},
            "update_cache": {"type": "boolean"},
            "upgrade": {"type": "boolean"},
            "extra_args": {"type": "string"},
            "force": {"type": "boolean"},
            "executable": {"type": "string"},
        },
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        names = as_list(args.get("name"))
        return [pacman_fact(names, args.get("state") == "latest")] if names else []

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        names = as_list(args.get("name"))
        extra = f" {args['extra_args']}" if args.get("extra_args") else ""
        changes: list[Change] = []
        if args.get("update_cache"):
            changes.append(Change("change", "refresh the package databases", (Run("pacman -Sy --noconfirm"),)))
        if args.get("upgrade"):
            changes.append(Change("change", "upgrade every package", (Run(f"pacman -Syu --noconfirm{extra}"),)))
        if not names:
            if not changes:
                raise ModuleArgError("give name, update_cache or upgrade", field="name")
            return changes
        state = args.get("state", "present")
        info = facts[pacman_fact(names, state == "latest").key]
        if not info["pacman"]:
            raise ModuleArgError("pacman is not installed on the host", field="name")
        installed: Mapping[str, str] = info["installed"]
        if state in ABSENT:
            gone = [n for n in names if n in installed]
            if not gone:
                return changes
            flag = "-Rdd" if args.get("force") else "-R"
            diff = Diff("packages", "\n".join(f"{n} {installed[n]}" for n in gone) + "\n", None)
            return [*changes, Change("remove", f"remove {', '.join(gone)}", (Run(f"pacman {flag} --noconfirm{extra} {shlex.join(gone)}"),), diff)]
        missing = [n for n in names if n not in installed]
        outdated = []
        if state == "latest":
            available: Mapping[str, str] = info["available"]
            outdated = [n for n in names if n in installed and n in available and available[n] != installed[n]]
            unknown = [n for n in names if n not in available and n not in installed and not args.get("update_cache")]
            if unknown:
                raise ModuleArgError(f"no package {unknown[0]} in the sync databases", field="name")
        todo = missing + outdated
        if not todo:
            return changes
        before = "\n".join(f"{n} {installed.get(n, '(absent)')}" for n in todo) + "\n"
        after = "\n".join(f"{n} {info['available'].get(n, '(newest)')}" for n in todo) + "\n"
        flag = "-Sdd" if args.get("force") else "-S"
        step = Run(f"pacman {flag} --noconfirm --needed{extra} {shlex.join(todo)}")
        return [*changes, Change("add" if not outdated else "change", f"install {', '.join(todo)}", (step,), Diff("packages", before, after))]

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        out = super().result(args, facts, steps)
        lines = [ln for ln in (steps[0].stdout.splitlines() if len(steps) == 1 else []) if ln.strip().startswith(("core", "extra", "community", "multilib")) or "is up to date" in ln]
        if args.get("update_cache") and len(steps) == 1 and lines and all("is up to date" in ln for ln in lines):
            out["changed"] = False  # only the refresh ran, and every database was current
        return out
