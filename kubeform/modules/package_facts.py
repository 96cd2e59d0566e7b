"""package_facts: the installed packages as ``ansible_facts.packages`` (and ``packages``).

Read-only, so it is real in a plan too. One probe lists every package of each manager
asked for (``auto``: the first of dpkg, pacman and rpm found; ``strategy: all``: every
one found): ``rpm -qa``, ``dpkg-query -W`` (installed only) and ``pacman -Q``. The shape
is Ansible's: package name -> list of ``{name, version, release, epoch, arch, source}``
(several entries for multilib or kernel packages installed side by side).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

RPM_QF = r"%{NAME}\t%{VERSION}\t%{RELEASE}\t%{EPOCH}\t%{ARCH}\n"
DEB_QF = r"${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n"
# ``auto`` tries them in this (Ansible's alphabetical) order: a Debian host with the
# rpm tool installed still reports its dpkg packages.
MANAGERS = {
    "apt": f"dpkg-query -W -f='{DEB_QF}'",
    "pacman": "pacman -Q",
    "rpm": f"rpm -qa --qf '{RPM_QF}'",
}
PROBE_BINARY = {"rpm": "rpm", "apt": "dpkg-query", "pacman": "pacman"}


def probe_command(managers: list[str], strategy: str) -> str:
    """Each usable manager's listing as a ``== name`` section, in the order asked."""
    parts = []
    for m in managers:
        found = "found=1; " if strategy == "first" else ""
        skip = '[ -z "$found" ] && ' if strategy == "first" else ""
        parts.append(
            f"{skip}command -v {PROBE_BINARY[m]} >/dev/null 2>&1 && {{ {found}echo '== {m}'; {MANAGERS[m]} 2>/dev/null; }}; "
        )
    return "( found=; " + "".join(parts) + "true )"


def _add(out: dict[str, list[dict[str, Any]]], info: dict[str, Any]) -> None:
    out.setdefault(str(info["name"]), []).append(info)


def parse_packages(stdout: str, rc: int) -> dict[str, list[dict[str, Any]]]:
    """Ansible's ``packages`` mapping from the probe's sections."""
    out: dict[str, list[dict[str, Any]]] = {}
    for manager, body in sections(stdout).items():
        for line in body.splitlines():
            if manager == "rpm":
                f = line.split("\t")
                if len(f) == 5:
                    epoch = None if f[3] in ("(none)", "") else int(f[3])
                    _add(out, {"name": f[0], "version": f[1], "release": f[2], "epoch": epoch, "arch": f[4], "source": "rpm"})
            elif manager == "apt":
                f = line.split("\t")
                if len(f) == 4 and f[3].strip()[1:2] == "i":  # ii, hi: installed
                    _add(out, {"name": f[0], "version": f[1], "arch": f[2], "source": "apt"})
            elif manager == "pacman":
                f = line.split()
                if len(f) == 2:
                    version, _, release = f[1].rpartition("-")
                    _add(out, {"name": f[0], "version": version or f[1], "release": release if version else "", "source": "pacman"})
    return out


class PackageFacts(Module):
    """Ansible's package_facts: manager (auto, rpm, apt, pacman), strategy (first, all)."""

    name: ClassVar[str] = "package_facts"
    fact_names: ClassVar[tuple[str, ...]] = ("packages",)
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "manager": {
                "anyOf": [
                    {"enum": ["auto", *MANAGERS]},
                    {"type": "array", "items": {"enum": ["auto", *MANAGERS]}},
                ]
            },
            "strategy": {"enum": ["first", "all"]},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def _fact(args: Mapping[str, Any]) -> Fact:
        wanted = args.get("manager", ["auto"])
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        managers: list[str] = []
        for m in wanted:
            for name in MANAGERS if m == "auto" else [m]:
                if name not in managers:
                    managers.append(name)
        strategy = "all" if args.get("strategy") == "all" else "first"
        return Fact(key=f"package_facts:{','.join(managers)}:{strategy}", command=probe_command(managers, strategy), parse=parse_packages)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [self._fact(args)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if not facts[self._fact(args).key]:
            raise ModuleArgError("no package manager found (dpkg-query, pacman or rpm)", field="manager")
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        return {"ansible_facts": {"packages": facts[self._fact(args).key]}}
