"""apt_repository: a one-line APT source present or absent (Ansible's ``apt_repository``).

One probe reads ``/etc/apt/sources.list`` and every ``sources.list.d/*.list``. As in
Ansible a repository counts as present when an enabled line anywhere says the same
(whitespace and option spacing aside); a commented-out copy is enabled again in place;
otherwise the line goes to ``sources.list.d/<filename>.list`` (by default named after
the URL, as Ansible names it: ``download_docker_com_linux_ubuntu.list``). ``absent``
removes every matching line, and a file left empty. After a change ``apt-get update``
runs unless ``update_cache: false``. ``ppa:`` sources (a Launchpad lookup) are refused.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules._files import FileState, file_fact, parse_mode, plan_content, split_lines
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

SOURCES = "/etc/apt/sources.list"
SOURCES_DIR = "/etc/apt/sources.list.d"
TYPES = ("deb", "deb-src")
LISTING = Fact(
    key="apt_sources",
    command=(
        f"( for f in {SOURCES} {SOURCES_DIR}/*.list; do [ -f \"$f\" ] || continue; "
        "echo \"== $f\"; cat \"$f\"; echo; done; true )"
    ),
    parse=lambda out, rc: sections(out),
)


def normalize(line: str) -> str | None:
    """The source a line states (``deb [opts] uri suite comps``) in one spelling, or None."""
    text = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else line.strip()
    text = re.sub(r"\[\s*([^\]]*?)\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    words = text.split()
    if len(words) < 3 or words[0] not in TYPES:
        return None
    return " ".join(words)


def _disabled(line: str) -> str | None:
    """The source of a commented-out line (``# deb http://...``), or None."""
    body = line.strip()
    if not body.startswith("#"):
        return None
    return normalize(body.lstrip("#").strip())


def suggest_filename(repo: str) -> str:
    """Ansible's default file name: the URL without scheme and credentials, cleaned."""
    line = re.sub(r"\[[^\]]+\]", "", repo)
    line = re.sub(r"\w+://", "", line)
    parts = [p for p in line.split() if p not in TYPES]
    first = parts[0].split("@", 1)[-1] if parts else "repository"
    return "_".join(re.sub(r"[^a-zA-Z0-9]", " ", first).split())


class AptRepository(Module):
    """Ansible's apt_repository: repo, state, filename, mode, update_cache."""

    name: ClassVar[str] = "apt_repository"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "repo": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            "filename": {"type": "string", "minLength": 1},
            "mode": {"type": ["string", "integer"]},
            "update_cache": {"type": "boolean"},
            "update-cache": {"type": "boolean"},
            "update_cache_retries": {"type": "integer"},
            "update_cache_retry_max_delay": {"type": "integer"},
            "validate_certs": {"type": "boolean"},
            "install_python_apt": {"type": "boolean"},
            "codename": {"type": "string"},
        },
        "required": ["repo"],
        "additionalProperties": False,
    }

    @staticmethod
    def _target(args: Mapping[str, Any]) -> str:
        name = str(args.get("filename") or suggest_filename(str(args["repo"])))
        return f"{SOURCES_DIR}/{name.removesuffix('.list')}.list"

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [LISTING, file_fact(self._target(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        repo = str(args["repo"])
        if repo.startswith("ppa:"):
            raise ModuleArgError("ppa: sources are not supported (write the deb line and the key)", field="repo")
        want = normalize(repo)
        if want is None:
            raise ModuleArgError(f"{repo!r} is not a one-line APT source ('deb [options] uri suite [components]')", field="repo")
        files: dict[str, str] = facts[LISTING.key]
        present = args.get("state", "present") == "present"
        changes: list[Change] = []
        if present:
            if any(normalize(ln) == want for text in files.values() for ln in split_lines(text)):
                return []
            for path, text in files.items():
                lines = split_lines(text)
                for i, ln in enumerate(lines):
                    if _disabled(ln) == want:  # enabled again where it was commented out
                        lines[i] = want + "\n"
                        changes += self._write(path, text, "".join(lines), f"{want} enabled")
                        return self._with_update(changes, args)
            target = self._target(args)
            state: FileState = facts[f"file:{target}"]
            text = state.text() if state.exists else ""
            if text and not text.endswith("\n"):
                text += "\n"
            mode = parse_mode(args.get("mode", "0644"))
            changes += plan_content(target, state, (text + want + "\n").encode(), mode=mode, what=f"{want} added")
            return self._with_update(changes, args)
        for path, text in files.items():
            lines = split_lines(text)
            kept = [ln for ln in lines if normalize(ln) != want]
            if len(kept) == len(lines):
                continue
            new = "".join(kept)
            if not new.strip() and path != SOURCES:
                changes.append(Change("remove", f"remove {path} (its last source {want})", (Run(f"rm -f {shlex.quote(path)}"),), Diff(path, text, None)))
            else:
                changes += self._write(path, text, new, f"{want} removed")
        return self._with_update(changes, args)

    @staticmethod
    def _write(path: str, before: str, after: str, what: str) -> list[Change]:
        """A rewrite in place (the file keeps its inode, mode and owner)."""
        step = Run(f"printf %s {shlex.quote(after)} > {shlex.quote(path)}")
        return [Change("change", f"{path}: {what}", (step,), Diff(path, before, after))]

    @staticmethod
    def _with_update(changes: list[Change], args: Mapping[str, Any]) -> list[Change]:
        if changes and args.get("update_cache", args.get("update-cache", True)):
            changes.append(Change("change", "apt-get update", (Run("apt-get update -q"),)))
        return changes
