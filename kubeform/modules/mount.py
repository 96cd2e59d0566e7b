"""mount (ansible.posix.mount): an fstab entry and whether it is mounted.

The fstab edit is computed here from the file's content fact, as Ansible's module does
it: every line whose mount point is ``path`` is rewritten when a field differs (or
removed), a missing entry is appended, spaces are written as ``\\040``. Whether the
path is mounted comes from one ``findmnt`` probe. ``mounted`` creates the mount point
and mounts by the fstab entry (``mount -T <fstab>`` when ``fstab`` is not
``/etc/fstab``, as Ansible does on Linux); a changed entry of a mounted path is
remounted (``mount -o remount``, falling back to unmount and mount). ``ephemeral``
mounts without touching fstab; ``remounted`` always remounts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_content, split_lines
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

DEFAULT_FSTAB = "/etc/fstab"
STATES = ("mounted", "unmounted", "present", "absent", "remounted", "absent_from_fstab", "ephemeral")


@dataclass(frozen=True)
class Entry:
    """One fstab line's six fields, unescaped."""

    src: str
    path: str
    fstype: str
    opts: str = "defaults"
    dump: str = "0"
    passno: str = "0"

    def line(self) -> str:
        return " ".join((_escape(self.src), _escape(self.path), self.fstype, self.opts, self.dump, self.passno)) + "\n"


@dataclass(frozen=True)
class Mounted:
    """What ``findmnt`` says is mounted on the path (None fields: nothing is)."""

    source: str
    fstype: str
    options: str


def _escape(text: str) -> str:
    return text.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012")


def _unescape(text: str) -> str:
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        text = text.replace(code, char)
    return text


def _norm(path: str) -> str:
    return path.rstrip("/") or "/"


def parse_entry(line: str) -> Entry | None:
    """The entry of an fstab line, or None for comments and blank or short lines."""
    body = line.strip()
    if not body or body.startswith("#"):
        return None
    fields = body.split()
    if len(fields) < 3:
        return None
    fields += ["defaults", "0", "0"][len(fields) - 3 :]
    return Entry(_unescape(fields[0]), _unescape(fields[1]), fields[2], fields[3], fields[4], fields[5])


def _matches(entry: Entry, path: str, src: str | None) -> bool:
    """Whether an entry is the one of ``path``; swap entries (path ``none``) by their source."""
    if _norm(entry.path) != _norm(path):
        return False
    return not (src is not None and entry.path == "none" and entry.fstype == "swap" and entry.src != src)


def edit_fstab(text: str, want: Entry | None, path: str, src: str | None = None) -> str:
    """``text`` with every entry of ``path`` set to ``want`` (None: removed), else appended."""
    out: list[str] = []
    seen = False
    for line in split_lines(text):
        entry = parse_entry(line)
        if entry is None or not _matches(entry, path, src):
            out.append(line)
            continue
        seen = True
        if want is None:
            continue
        out.append(line if entry == want else want.line())
    if want is not None and not seen:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(want.line())
    return "".join(out)


def findmnt_fact(path: str) -> Fact:
    """What is mounted on ``path`` now: ``findmnt`` in raw mode (escapes as ``\\x20``)."""
    cmd = f"findmnt -rn -o SOURCE,FSTYPE,OPTIONS --mountpoint {shlex.quote(path)}; true"
    return Fact(key=f"mount:{path}", command=f"( {cmd} )", parse=parse_findmnt, volatile=False)


def parse_findmnt(out: str, rc: int) -> Mounted | None:
    """The last (topmost) mount on the path, or None."""
    lines = [ln.split(" ") for ln in out.splitlines() if ln.strip()]
    if not lines:
        return None
    fields = lines[-1] + ["", ""]
    return Mounted(_unhex(fields[0]), fields[1], fields[2])


def _unhex(text: str) -> str:
    """findmnt -r writes a space as ``\\x20``."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)


class Mount(Module):
    """Ansible's mount: path, src, fstype, opts, dump, passno, state, fstab, boot, backup."""

    name: ClassVar[str] = "mount"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "src": {"type": "string", "minLength": 1},
            "fstype": {"type": "string", "minLength": 1},
            "opts": {"type": "string", "minLength": 1},
            "dump": {"type": ["string", "integer"]},
            "passno": {"type": ["string", "integer"]},
            "state": {"enum": list(STATES)},
            "fstab": {"type": "string", "minLength": 1},
            "boot": {"type": "boolean"},
            "backup": {"type": "boolean"},
            "opts_no_log": {"type": "boolean"},
        },
        "required": ["state"],
        "additionalProperties": False,
    }

    @staticmethod
    def _path(args: Mapping[str, Any]) -> str:
        path = args.get("path") or args.get("name")
        if not path:
            raise ModuleArgError("path is required", field="path")
        return _norm(str(path))

    @staticmethod
    def _fstab(args: Mapping[str, Any]) -> str:
        return str(args.get("fstab") or DEFAULT_FSTAB)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        path = self._path(args)
        state = args["state"]
        out: list[Fact] = []
        if state not in ("unmounted", "remounted", "ephemeral"):
            out.append(file_fact(self._fstab(args)))
        if state not in ("present", "absent_from_fstab"):
            out.append(findmnt_fact(path))
        if state in ("mounted", "absent", "ephemeral"):
            out.append(file_fact(path))
        return out

    def _entry(self, args: Mapping[str, Any]) -> Entry:
        for need in ("src", "fstype"):
            if not args.get(need):
                raise ModuleArgError(f"state={args['state']} needs {need}", field=need)
        opts = [o for o in str(args.get("opts") or "defaults").split(",") if o]
        if args.get("boot") is False:
            opts = [o for o in opts if o != "defaults"]
            if "noauto" not in opts:
                opts.append("noauto")
        return Entry(
            str(args["src"]), self._path(args), str(args["fstype"]), ",".join(opts) or "defaults",
            str(args.get("dump", "0")), str(args.get("passno", "0")),
        )  # fmt: skip

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = self._path(args)
        state = str(args["state"])
        fstab = self._fstab(args)
        t_flag = f" -T {shlex.quote(fstab)}" if fstab != DEFAULT_FSTAB else ""
        qpath = shlex.quote(path)
        mounted: Mounted | None = facts.get(f"mount:{path}")
        changes: list[Change] = []
        if state in ("present", "mounted", "absent", "absent_from_fstab"):
            tab: FileState = facts[f"file:{fstab}"]
            want = self._entry(args) if state in ("present", "mounted") else None
            if tab.exists or want is not None:
                src = str(args["src"]) if args.get("src") else None
                new = edit_fstab(tab.text(), want, path, src)
                what = f"entry of {path}" + (" removed" if want is None else "")
                mode = None if tab.exists else 0o644
                changes += plan_content(fstab, tab, new.encode(), mode=mode, backup=bool(args.get("backup")), what=what)
        if state == "mounted":
            point: FileState = facts[f"file:{path}"]
            steps: list[Run] = []
            if not point.exists:
                steps.append(Run(f"mkdir -p {qpath}"))
            if mounted is None:
                changes.append(Change("add", f"mount {path}", (*steps, Run(f"mount{t_flag} {qpath}")), Diff(f"mount {path}", "unmounted", "mounted")))
            elif changes:
                changes.append(Change("change", f"remount {path} (entry changed)", (_remount(qpath, t_flag),)))
        elif state == "ephemeral":
            entry = self._entry(args)
            point = facts[f"file:{path}"]
            if mounted is not None and (mounted.source, mounted.fstype) != (entry.src, entry.fstype):
                raise ModuleArgError(f"{path} is already mounted from {mounted.source} ({mounted.fstype})", field="src")
            if mounted is None:
                mk = () if point.exists else (Run(f"mkdir -p {qpath}"),)
                cmd = f"mount -t {shlex.quote(entry.fstype)} -o {shlex.quote(entry.opts)} {shlex.quote(entry.src)} {qpath}"
                changes.append(Change("add", f"mount {path} (not in fstab)", (*mk, Run(cmd)), Diff(f"mount {path}", "unmounted", "mounted")))
        elif state == "remounted":
            if mounted is None:
                raise ModuleArgError(f"{path} is not mounted; cannot remount it", field="path")
            changes.append(Change("change", f"remount {path}", (_remount(qpath, t_flag),)))
        if state in ("unmounted", "absent") and mounted is not None:
            changes.append(Change("remove", f"unmount {path}", (Run(f"umount {qpath}"),), Diff(f"mount {path}", "mounted", "unmounted")))
        if state == "absent":
            point = facts[f"file:{path}"]
            if point.kind == "directory":
                changes.append(Change("remove", f"remove mount point {path}", (Run(f"rmdir {qpath}"),)))
        return changes


def _remount(qpath: str, t_flag: str) -> Run:
    return Run(f"mount -o remount{t_flag} {qpath} || {{ umount {qpath} && mount{t_flag} {qpath}; }}")
