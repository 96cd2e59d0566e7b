"""file: a path's kind (file, directory, link, absent, touch) and its attributes.

Ansible's semantics, with one deliberate difference: ``state: touch`` creates a missing
file but does not bump the times of an existing one (as Ansible's
``modification_time: preserve``), so a touch task converges and a second plan is empty.
``recurse`` (directories) checks every entry below with one ``find`` probe, so it too
reports nothing when the tree already has the wanted mode/owner/group.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules import _secontext as secontext
from kubeform.modules._files import (
    FileState,
    attr_changes,
    file_fact,
    mode_schema,
    parse_mode,
    str_arg,
)
from kubeform.modules._secontext import SE_ARGS
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run, Step

PATH_NAMES = ("path", "dest", "name")


def _path(args: Mapping[str, Any]) -> str:
    path = str_arg(args, *PATH_NAMES)
    if path is None:
        raise ModuleArgError("path is required", field="path")
    return path.rstrip("/") or "/"


def tree_fact(path: str, mode: int | None, owner: str | None, group: str | None) -> Fact:
    """Does any entry under ``path`` differ from mode/owner/group? (``recurse: yes``)."""
    tests = []
    if mode is not None:
        tests.append(f"! -perm {mode:04o}")
    if owner:
        tests.append(f"! -user {shlex.quote(owner)}")
    if group:
        tests.append(f"! -group {shlex.quote(group)}")
    cond = " -o ".join(tests) or "-false"
    q = shlex.quote(path)
    cmd = (
        f"( if [ -d {q} ]; then n=$(find {q} -mindepth 1 ! -type l \\( {cond} \\) -print "
        "2>/dev/null | head -n 1 | wc -l); echo differ=$n; else echo differ=0; fi )"
    )
    key = f"tree:{path}:{mode_key(mode)}:{owner or ''}:{group or ''}"
    return Fact(key=key, command=cmd, parse=lambda out, rc: out.strip() != "differ=0")


def mode_key(mode: int | None) -> str:
    return "" if mode is None else f"{mode:04o}"


def _state(args: Mapping[str, Any], cur: FileState) -> str:
    """Ansible's default state: the path's current kind, else file/directory/link by args."""
    state = args.get("state")
    if state:
        return str(state)
    if args.get("recurse"):
        return "directory"
    if args.get("src"):
        return "link"
    if cur.kind in ("directory", "link"):
        return cur.kind
    return "file"


class File(Module):
    """Ansible's file module: state file|directory|link|absent|touch, mode/owner/group."""

    name: ClassVar[str] = "file"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **{n: {"type": "string", "minLength": 1} for n in PATH_NAMES},
            "state": {"enum": ["file", "directory", "link", "absent", "touch"]},
            "mode": mode_schema(),
            "owner": {"type": "string"},
            "group": {"type": "string"},
            "src": {"type": "string", "minLength": 1},
            "recurse": {"type": "boolean"},
            "force": {"type": "boolean"},
            "follow": {"type": "boolean"},
            "modification_time": {"type": "string"},
            "access_time": {"type": "string"},
            "modification_time_format": {"type": "string"},
            "access_time_format": {"type": "string"},
            **SE_ARGS,
        },
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        path = _path(args)
        facts = [file_fact(path)]
        if secontext.wanted(args):
            facts.append(secontext.se_fact(path))
        if args.get("recurse"):
            mode = parse_mode(args.get("mode"))
            if isinstance(mode, str):
                raise ModuleArgError(
                    "recurse needs an octal mode, not a symbolic one", field="mode"
                )
            facts.append(tree_fact(path, mode, args.get("owner"), args.get("group")))
        return facts

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = _path(args)
        cur: FileState = facts[f"file:{path}"]
        changes = self._plan(path, cur, args, facts)
        if _state(args, cur) in ("file", "directory", "touch") and secontext.wanted(args):
            changes += secontext.se_changes(path, args, facts, created=not cur.exists)
        flags = _time_flags(args)
        if flags and _state(args, cur) in ("file", "directory", "touch") and cur.exists:
            changes.append(Change("change", f"{path}: times -> now", (Run(f"touch -c {flags} {shlex.quote(path)}"),)))
        return changes

    def _plan(self, path: str, cur: FileState, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        state = _state(args, cur)
        mode = parse_mode(args.get("mode"))
        owner, group = args.get("owner"), args.get("group")
        q = shlex.quote(path)
        if args.get("recurse") and state != "directory":
            raise ModuleArgError("recurse is only valid with state=directory", field="recurse")
        if state == "absent":
            if not cur.exists:
                return []
            return [
                Change(
                    "remove",
                    f"remove {path} ({cur.kind})",
                    (Run(f"rm -rf {q}"),),
                    Diff(label=path, before=f"state: {cur.kind}\n", after="state: absent\n"),
                )
            ]
        if state == "link":
            return self._link(path, cur, args, owner, group)
        if state == "file":
            if not cur.exists:
                raise ModuleArgError(
                    f"file {path} is absent, cannot continue (use state: touch to create it)",
                    field="path",
                )
            if not cur.is_file:
                raise ModuleArgError(
                    f"{path} is a {cur.target_kind or cur.kind}, not a file", field="path"
                )
            return self._attrs(path, cur, mode, owner, group, is_dir=False)
        if state == "touch":
            if cur.exists:
                return self._attrs(path, cur, mode, owner, group, is_dir=cur.kind == "directory")
            attrs = attr_changes(path, None, mode, owner, group)
            return [
                Change(
                    "add",
                    f"create empty file {path}",
                    (Run(f"touch {q}"), *attrs.steps),
                    Diff(label=path, before="state: absent\n", after="state: file\n"),
                )
            ]
        # directory
        if cur.exists and cur.kind != "directory" and cur.target_kind != "directory":
            raise ModuleArgError(
                f"{path} exists and is a {cur.kind}, not a directory", field="path"
            )
        if not cur.exists:
            attrs = attr_changes(path, None, mode, owner, group, is_dir=True)
            steps: list[Step] = [Run(f"mkdir -p {q}"), *attrs.steps]
            return [
                Change(
                    "add",
                    f"create directory {path}",
                    tuple(steps),
                    Diff(label=path, before="state: absent\n", after="state: directory\n"),
                )
            ]
        changes = self._attrs(path, cur, mode, owner, group, is_dir=True)
        if args.get("recurse"):
            key = f"tree:{path}:{mode_key(mode if isinstance(mode, int) else None)}:{owner or ''}:{group or ''}"
            if facts[key]:
                steps = []
                if isinstance(mode, int):
                    steps.append(Run(f"chmod -R {mode:04o} {q}"))
                if owner or group:
                    who = (owner or "") + (f":{group}" if group else "")
                    steps.append(Run(f"chown -R {shlex.quote(who)} {q}"))
                changes.append(
                    Change("change", f"{path}: attributes of entries below", tuple(steps))
                )
        return changes

    @staticmethod
    def _attrs(
        path: str,
        cur: FileState,
        mode: int | str | None,
        owner: str | None,
        group: str | None,
        *,
        is_dir: bool,
    ) -> list[Change]:
        attrs = attr_changes(path, cur, mode, owner, group, is_dir=is_dir)
        if not attrs.steps:
            return []
        return [Change("change", f"{path}: {', '.join(attrs.notes)}", attrs.steps)]

    @staticmethod
    def _link(
        path: str,
        cur: FileState,
        args: Mapping[str, Any],
        owner: str | None,
        group: str | None,
    ) -> list[Change]:
        src = args.get("src")
        if not src:
            raise ModuleArgError("src is required for state=link", field="src")
        q = shlex.quote(path)
        if cur.kind == "link" and cur.target == src:
            attrs = attr_changes(path, cur, None, owner, group, link=True)
            if not attrs.steps:
                return []
            return [Change("change", f"{path}: {', '.join(attrs.notes)}", attrs.steps)]
        if cur.kind == "directory":
            raise ModuleArgError(
                f"{path} is a directory; refusing to replace it with a link", field="path"
            )
        if cur.kind in ("file", "other") and not args.get("force", False):
            raise ModuleArgError(
                f"{path} exists and is a {cur.kind}; set force: yes to replace it with a link",
                field="path",
            )
        attrs = attr_changes(path, None, None, owner, group, link=True)
        before = f"link -> {cur.target}\n" if cur.kind == "link" else f"state: {cur.kind}\n"
        return [
            Change(
                "add" if not cur.exists else "change",
                f"link {path} -> {src}",
                (Run(f"ln -sfn {shlex.quote(str(src))} {q}"), *attrs.steps),
                Diff(label=path, before=before, after=f"link -> {src}\n"),
            )
        ]


def _time_flags(args: Mapping[str, Any]) -> str:
    """``touch`` flags for Ansible's ``modification_time``/``access_time`` set to ``now``.

    ``preserve`` (and leaving them out) is kubeform's default: times of an existing path
    are not bumped, so the task converges. ``now`` bumps them on every run (a change each
    time, as in Ansible). Explicit timestamps are not supported.
    """
    flags = []
    for key, flag in (("modification_time", "-m"), ("access_time", "-a")):
        value = args.get(key)
        if value is None or value == "preserve":
            continue
        if value != "now":
            raise ModuleArgError(f"{key} must be 'preserve' or 'now' (timestamps are not supported)", field=key)
        flags.append(flag)
    return " ".join(flags)
