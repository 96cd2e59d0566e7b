"""yum_repository: one section of a ``.repo`` file (Ansible's ``yum_repository``).

The section is written here from the arguments — options in name order as Ansible's
module writes them (``name`` from ``description``, booleans as ``1``/``0``, lists one
per line) — and replaces the section of the same id in ``<reposdir>/<file>.repo``;
the file's other sections stay as they are. ``absent`` removes the section, and the
file when nothing is left in it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, parse_mode, plan_content, split_lines
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

OPTIONS_STR = ("baseurl", "metalink", "mirrorlist", "gpgkey", "gpgcakey", "exclude", "includepkgs", "proxy",
               "proxy_username", "proxy_password", "username", "password", "sslcacert", "sslclientcert", "sslclientkey",
               "metadata_expire", "metadata_expire_filter", "mirrorlist_expire", "ip_resolve", "http_caching",
               "failovermethod", "bandwidth", "throttle", "timeout", "retries", "priority", "cost",
               "deltarpm_percentage", "deltarpm_metadata_percentage", "ui_repoid_vars", "countme")  # fmt: skip
OPTIONS_BOOL = ("enabled", "gpgcheck", "repo_gpgcheck", "sslverify", "skip_if_unavailable", "module_hotfixes",
                "keepalive", "async", "protect", "s3_enabled", "enablegroups", "keepcache")  # fmt: skip
LISTS = ("baseurl", "gpgkey", "exclude", "includepkgs")
SECRETS = ("password", "proxy_password")
_HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*$")


def section_text(args: Mapping[str, Any]) -> str:
    values: dict[str, str] = {}
    if args.get("description") is not None:
        values["name"] = str(args["description"])
    for key in (*OPTIONS_STR, *OPTIONS_BOOL):
        value = args.get(key)
        if value is None:
            continue
        if key in OPTIONS_BOOL:
            values[key] = "1" if value else "0"
        elif isinstance(value, list):
            sep = "\n\t" if key in ("baseurl", "gpgkey", "mirrorlist") else " "
            values[key] = sep.join(str(v) for v in value)
        else:
            values[key] = str(value).lower() if isinstance(value, bool) else str(value)
    lines = [f"[{args['name']}]"] + [f"{k} = {values[k]}" for k in sorted(values)]
    return "\n".join(lines) + "\n"


def split_sections(text: str) -> list[tuple[str | None, str]]:
    """(section id or None for the head, raw text) in file order."""
    out: list[tuple[str | None, str]] = [(None, "")]
    for line in split_lines(text):
        m = _HEADER.match(line)
        if m:
            out.append((m.group(1).strip(), line))
        else:
            sid, body = out[-1]
            out[-1] = (sid, body + line)
    return out


def edit_repo(text: str, repo_id: str, new: str | None) -> str:
    parts = split_sections(text)
    kept: list[str] = []
    placed = False
    for sid, body in parts:
        if sid == repo_id:
            if new is not None and not placed:
                kept.append(new + ("\n" if body.endswith("\n\n") else ""))
                placed = True
            continue
        kept.append(body)
    if new is not None and not placed:
        if kept and kept[-1] and not kept[-1].endswith("\n\n"):
            kept[-1] += "\n" if kept[-1].endswith("\n") else "\n\n"
        kept.append(new)
    result = "".join(kept)
    return result if result.strip() else ""


class YumRepository(Module):
    """Ansible's yum_repository: name, description, baseurl, gpgkey, enabled, gpgcheck, file, ..."""

    name: ClassVar[str] = "yum_repository"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "file": {"type": "string", "minLength": 1},
            "reposdir": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            "mode": {"type": ["string", "integer"]},
            "owner": {"type": "string"},
            "group": {"type": "string"},
            **{k: ({"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]} if k in LISTS
                   else {"type": ["string", "integer", "number", "boolean"]}) for k in OPTIONS_STR},
            **{k: {"type": "boolean"} for k in OPTIONS_BOOL},
        },
        "required": ["name"],
        "additionalProperties": False,
    }  # fmt: skip

    @staticmethod
    def _path(args: Mapping[str, Any]) -> str:
        reposdir = str(args.get("reposdir") or "/etc/yum.repos.d").rstrip("/")
        return f"{reposdir}/{args.get('file') or args['name']}.repo"

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(self._path(args)), file_fact(self._path(args).rsplit("/", 1)[0] or "/")]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = self._path(args)
        state: FileState = facts[f"file:{path}"]
        repo_id = str(args["name"])
        reposdir = path.rsplit("/", 1)[0] or "/"
        if not facts[f"file:{reposdir}"].exists:
            raise ModuleArgError(f"Repo directory '{reposdir}' does not exist.", field="reposdir")
        if args.get("state", "present") == "absent":
            if not state.exists:
                return []
            new = edit_repo(state.text(), repo_id, None)
            if new == state.text():
                return []
            if not new:
                return [Change("remove", f"remove {path} (its last section {repo_id})", (Run(f"rm -f {shlex.quote(path)}"),), Diff(path, state.text(), None))]
            return plan_content(path, state, new.encode(), what=f"section {repo_id} removed")
        if args.get("description") is None and (not state.exists or repo_id not in dict(split_sections(state.text()))):
            raise ModuleArgError("description is required when the repository is added", field="description")
        if not any(args.get(k) for k in ("baseurl", "metalink", "mirrorlist")):
            raise ModuleArgError("one of baseurl, metalink or mirrorlist is required", field="baseurl")
        new = edit_repo(state.text() if state.exists else "", repo_id, section_text(args))
        secret = any(args.get(k) for k in SECRETS)
        mode = parse_mode(args["mode"]) if args.get("mode") is not None else None
        if mode is None and not state.exists:
            mode = 0o600 if secret else 0o644  # a password in it: not for everyone's eyes
        return plan_content(path, state, new.encode(), mode=mode, owner=args.get("owner"), group=args.get("group"), what=f"repository {repo_id}")
