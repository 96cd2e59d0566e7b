"""zypper_repository: a SUSE repository present or absent (``community.general.zypper_repository``).

The probe reads ``/etc/zypp/repos.d`` (section by alias). A missing repository is added
with ``zypper addrepo`` (``repo`` a base URL, or the URL of a ``.repo`` file, whose own
alias then names it); differing ``enabled``/``autorefresh``/``priority``/
``disable_gpg_check`` are set with ``zypper modifyrepo``; ``absent`` removes it.
"""

from __future__ import annotations

import configparser
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run


def parse_repos(out: str, rc: int) -> dict[str, Any]:
    """``{"zypper": bool, "repos": {alias: {option: value}}}`` from the repo files."""
    found: dict[str, Any] = {"zypper": "zypper=missing" not in out, "repos": {}}
    text = sections(out).get("repos", "")
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return found
    for alias in parser.sections():
        found["repos"][alias] = dict(parser[alias])
    return found


def _on(value: Any) -> str:
    return "1" if str(value).lower() in ("1", "true", "yes", "on") else "0"


class ZypperRepository(Module):
    """``name``, ``repo``, ``state``, ``description``, ``enabled``, ``autorefresh``, ``priority``..."""

    name: ClassVar[str] = "zypper_repository"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_.:+-]+$"},
            "repo": {"type": "string"},
            "state": {"enum": ["present", "absent"]},
            "description": {"type": "string"},
            "enabled": {"type": "boolean"},
            "autorefresh": {"type": "boolean"},
            "refresh": {"type": "boolean"},
            "priority": {"type": "integer", "minimum": 1},
            "disable_gpg_check": {"type": "boolean"},
            "auto_import_keys": {"type": "boolean"},
            "runrefresh": {"type": "boolean"},
            "overwrite_multiple": {"type": "boolean"},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        cmd = ("( if ! command -v zypper >/dev/null 2>&1; then echo zypper=missing; fi; echo '== repos'; "
               "for f in /etc/zypp/repos.d/*.repo; do [ -f \"$f\" ] && cat \"$f\" && echo; done; true )")  # fmt: skip
        return [Fact("zypper_repos", cmd, parse_repos)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts["zypper_repos"]
        if not found["zypper"]:
            raise ModuleArgError("zypper not found on the host (it is SUSE's package manager)")
        name = args.get("name")
        repo = str(args.get("repo") or "")
        if not name and not repo.endswith(".repo"):
            raise ModuleArgError("name is required (unless repo is a .repo file)", field="name")
        alias = str(name or repo.rsplit("/", 1)[-1].removesuffix(".repo"))
        current = found["repos"].get(alias)
        base = "zypper --non-interactive" + (" --gpg-auto-import-keys" if args.get("auto_import_keys") else "")
        if args.get("state", "present") == "absent":
            if current is None:
                return []
            return [Change("remove", f"remove repository {alias}", (Run(f"{base} removerepo {shlex.quote(alias)}"),), Diff(f"zypper repository {alias}", "present", "absent"))]
        refresh = args.get("autorefresh", args.get("refresh", True))
        if current is None:
            if not repo:
                raise ModuleArgError("repo is required to add a repository", field="repo")
            opts = []
            if repo.endswith(".repo"):
                cmd = f"{base} addrepo {shlex.quote(repo)}"
            else:
                if args.get("description"):
                    opts += ["--name", shlex.quote(str(args["description"]))]
                if refresh:
                    opts.append("--refresh")
                if args.get("priority"):
                    opts += ["--priority", str(int(args["priority"]))]
                if args.get("disable_gpg_check"):
                    opts.append("--no-gpgcheck")
                if args.get("enabled") is False:
                    opts.append("--disable")
                cmd = f"{base} addrepo {' '.join(opts) + ' ' if opts else ''}{shlex.quote(repo)} {shlex.quote(alias)}"
            steps = [Run(cmd)] + ([Run(f"{base} refresh {shlex.quote(alias)}")] if args.get("runrefresh") else [])
            return [Change("add", f"add repository {alias}", tuple(steps), Diff(f"zypper repository {alias}", None, f"{repo}\n"))]
        mods, notes = [], []
        for key, flag_on, flag_off, want in (("enabled", "--enable", "--disable", args.get("enabled")),
                                             ("autorefresh", "--refresh", "--no-refresh", args.get("autorefresh", args.get("refresh"))),
                                             ("gpgcheck", "--gpgcheck", "--no-gpgcheck", None if args.get("disable_gpg_check") is None else not args["disable_gpg_check"])):  # fmt: skip
            if want is None:
                continue
            if _on(current.get(key, "1")) != _on(want):
                mods.append(flag_on if want else flag_off)
                notes.append(f"{key} {current.get(key, '1')} -> {_on(want)}")
        if args.get("priority") and str(current.get("priority", "99")) != str(int(args["priority"])):
            mods += ["--priority", str(int(args["priority"]))]
            notes.append(f"priority {current.get('priority', '99')} -> {int(args['priority'])}")
        if not mods:
            return []
        return [Change("change", f"repository {alias}: {', '.join(notes)}", (Run(f"{base} modifyrepo {' '.join(mods)} {shlex.quote(alias)}"),))]
