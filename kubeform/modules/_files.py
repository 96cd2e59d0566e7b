"""Shared help for the file modules: one file fact, mode arithmetic, content changes.

Every module that looks at a file (copy, template, file, lineinfile, blockinfile, swap,
sysctl, kernel_module) asks for the same fact ``file:<path>`` with the same command, so
the engine can batch and de-duplicate the probe, and every plan reads the same shape
(``FileState``). Content travels base64-encoded so binary files and odd encodings
survive any transport, and only up to ``CONTENT_LIMIT`` bytes (sha256 always), so a huge
file costs one hash, never a transfer. Decisions compare sha256, never bytes sent over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeform.modules.base import (
    Change,
    Diff,
    Fact,
    ModuleArgError,
    Run,
    Step,
    StepContext,
    StepResult,
    Upload,
)

CONTENT_LIMIT = 1024 * 1024  # bytes of a file's content the fact returns (base64)
TEXT_DIFF_LIMIT = 256 * 1024  # larger contents are shown as a sha256 line, not a diff


@dataclass(frozen=True)
class FileState:
    """What the ``file:<path>`` fact found. ``kind`` is ``absent`` when nothing is there.

    For a symlink, ``kind`` is ``link`` and ``target`` its text; ``real`` is the fully
    resolved path, and mode/owner/size/sha256/content describe what the link points to
    (as text edits in Ansible follow links).
    """

    path: str
    kind: str  # absent | file | directory | link | other
    mode: int | None = None
    owner: str | None = None
    group: str | None = None
    size: int | None = None
    sha256: str | None = None
    content: bytes | None = None
    target: str | None = None
    real: str | None = None
    target_kind: str | None = None  # for links: what the link resolves to

    @property
    def exists(self) -> bool:
        return self.kind != "absent"

    @property
    def is_file(self) -> bool:
        """A regular file, directly or through a symlink."""
        return self.kind == "file" or (self.kind == "link" and self.target_kind == "file")

    def text(self) -> str:
        """The content as text; raise when it was too large for the fact to return."""
        if not self.exists:
            return ""
        if self.content is None:
            raise ModuleArgError(
                f"{self.path} is larger than {CONTENT_LIMIT} bytes; too big to edit line by line",
                field="path",
            )
        return self.content.decode("utf-8", errors="surrogateescape")


def _kind_probe(var: str) -> str:
    return (
        f'if [ -L "${var}" ]; then echo link; elif [ -d "${var}" ]; then echo directory; '
        f'elif [ -f "${var}" ]; then echo file; elif [ -e "${var}" ]; then echo other; '
        "else echo absent; fi"
    )


def file_fact(path: str) -> Fact:
    """The one probe of a path: kind, stat, sha256 and (small files) base64 content.

    POSIX sh + coreutils only, in a subshell so it can be batched with other facts; a
    missing path prints ``kind=absent`` and exits 0.
    """
    q = shlex.quote(path)
    cmd = (
        f"( p={q}; k=$({_kind_probe('p')}); echo kind=$k; "
        'if [ "$k" = link ]; then echo "target=$(readlink "$p")"; '
        'echo "real=$(readlink -f "$p")"; '
        'if [ -e "$p" ]; then t=$(if [ -d "$p" ]; then echo directory; '
        'elif [ -f "$p" ]; then echo file; else echo other; fi); else t=absent; fi; '
        "echo target_kind=$t; fi; "
        'if [ -e "$p" ]; then stat -L -c "stat=%a %U %G %s" "$p"; fi; '
        'if [ -f "$p" ] && [ -r "$p" ]; then echo "sha256=$(sha256sum < "$p" | cut -d" " -f1)"; '
        f'if [ "$(stat -L -c %s "$p")" -le {CONTENT_LIMIT} ]; then '
        'printf "content="; base64 < "$p" | tr -d "\\n"; echo; fi; fi )'
    )
    return Fact(key=f"file:{path}", command=cmd, parse=lambda out, rc: parse_file(path, out, rc))


def parse_file(path: str, out: str, rc: int) -> FileState:
    """Parse ``file_fact`` output; an unreadable answer is an error, never 'absent'."""
    vals: dict[str, str] = {}
    for line in out.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            vals[key.strip()] = value
    kind = vals.get("kind")
    if rc != 0 or kind is None:
        raise ModuleArgError(f"cannot inspect {path} (rc {rc}): {out.strip()[:200]}", field="path")
    if kind == "absent":
        return FileState(path=path, kind="absent")
    mode = owner = group = size = None
    if "stat" in vals:
        parts = vals["stat"].split()
        if len(parts) == 4:
            mode, owner, group, size = int(parts[0], 8), parts[1], parts[2], int(parts[3])
    content = None
    if "content" in vals:
        try:
            content = base64.b64decode(vals["content"], validate=True)
        except binascii.Error as err:
            raise ModuleArgError(f"cannot decode content of {path}: {err}", field="path") from err
    return FileState(
        path=path,
        kind=kind,
        mode=mode,
        owner=owner,
        group=group,
        size=size,
        sha256=vals.get("sha256"),
        content=content,
        target=vals.get("target"),
        real=vals.get("real"),
        target_kind=vals.get("target_kind"),
    )


# ---------------------------------------------------------------- modes

_SYMBOLIC = re.compile(r"^[ugoa]*[-+=][rwxXst]*(?:[-+=][rwxXst]*)*$")


def parse_mode(value: Any, field: str = "mode") -> int | str | None:
    """An argument ``mode`` as Ansible reads it: an int, an octal string, or symbolic.

    Ints are taken as their value (YAML 1.1's ``0644`` is already octal 420, as in
    Ansible). A decimal int that looks like octal digits and exceeds 0o777 (``644``,
    ``755``) is refused: Ansible would apply 0o1204 silently; nobody means that.
    Returns an int, a symbolic string (``u=rw,g=r``), or None.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ModuleArgError(f"{field} must be an octal string like '0644'", field=field)
    if isinstance(value, int):
        if value > 0o777 and re.fullmatch(r"[0-7]{3,4}", str(value)):
            raise ModuleArgError(
                f"{field} {value} is a decimal number (= 0o{value:o}); "
                f"write it as a string '0{value}' or as 0{value}",
                field=field,
            )
        if not 0 <= value <= 0o7777:
            raise ModuleArgError(f"{field} {value} is out of range", field=field)
        return value
    text = str(value).strip()
    if re.fullmatch(r"(0o)?[0-7]{1,4}", text):
        return int(text.removeprefix("0o"), 8)
    if text and all(_SYMBOLIC.match(part) for part in text.split(",")):
        return text
    raise ModuleArgError(
        f"{field} {value!r} is neither octal ('0644') nor symbolic ('u=rw,g=r,o=r')",
        field=field,
    )


_BITS = {"r": 4, "w": 2, "x": 1}
_WHO_SHIFT = {"u": 6, "g": 3, "o": 0}
_SPECIAL = {"u": 0o4000, "g": 0o2000, "o": 0o1000}


def apply_symbolic(mode: int, spec: str, is_dir: bool) -> int:
    """The mode chmod would produce from ``mode`` and a symbolic ``spec`` (umask ignored)."""
    for clause in spec.split(","):
        m = re.match(r"^([ugoa]*)(.*)$", clause)
        assert m is not None
        who = m.group(1).replace("a", "ugo") or "ugo"
        for op, perms in re.findall(r"([-+=])([rwxXst]*)", m.group(2)):
            for w in dict.fromkeys(who):
                bits = 0
                for p in perms:
                    if p in _BITS:
                        bits |= _BITS[p] << _WHO_SHIFT[w]
                    elif p == "X" and (is_dir or mode & 0o111):
                        bits |= 1 << _WHO_SHIFT[w]
                    elif p == "s" and w in "ug":
                        bits |= _SPECIAL[w]
                    elif p == "t" and w == "o":
                        bits |= _SPECIAL["o"]
                mask = (7 << _WHO_SHIFT[w]) | _SPECIAL[w]
                if op == "=":
                    mode = (mode & ~mask) | bits
                elif op == "+":
                    mode |= bits
                else:
                    mode &= ~bits
    return mode


def desired_mode(mode: int | str | None, current: int | None, is_dir: bool) -> int | None:
    """The numeric mode the path must end with, or None when mode is not managed."""
    if mode is None:
        return None
    if isinstance(mode, int):
        return mode
    return apply_symbolic(current or 0, mode, is_dir)


def mode_text(mode: int | None) -> str:
    return "-" if mode is None else f"{mode:04o}"


# ---------------------------------------------------------------- attributes


@dataclass(frozen=True)
class AttrChange:
    """The chmod/chown steps and a readable note for attributes that differ."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...]


def attr_changes(
    path: str,
    state: FileState | None,
    mode: int | str | None,
    owner: str | None,
    group: str | None,
    *,
    is_dir: bool = False,
    link: bool = False,
) -> AttrChange:
    """chmod/chown for the attributes of ``path`` that differ from ``state``.

    ``state`` None means the path is about to be created: every given attribute is set.
    ``link`` changes the link itself (``chown -h``; links have no mode of their own).
    """
    q = shlex.quote(path)
    steps: list[Step] = []
    notes: list[str] = []
    cur_mode = state.mode if state else None
    want = desired_mode(mode, cur_mode, is_dir)
    if mode is not None and not link and (state is None or want != cur_mode):
        arg = mode if isinstance(mode, str) else f"{mode:04o}"
        steps.append(Run(f"chmod {shlex.quote(arg)} {q}"))
        notes.append(
            f"mode {mode_text(cur_mode)} -> {mode_text(want) if want is not None else arg}"
        )
    who_owner = owner if owner is not None and (state is None or state.owner != owner) else None
    who_group = group if group is not None and (state is None or state.group != group) else None
    if who_owner or who_group:
        who = (who_owner or "") + (f":{who_group}" if who_group else "")
        flag = "-h " if link else ""
        steps.append(Run(f"chown {flag}{shlex.quote(who)} {q}"))
        if who_owner:
            notes.append(f"owner {state.owner if state else '-'} -> {who_owner}")
        if who_group:
            notes.append(f"group {state.group if state else '-'} -> {who_group}")
    return AttrChange(tuple(steps), tuple(notes))


# ---------------------------------------------------------------- content


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _is_text(data: bytes | None) -> bool:
    if data is None or len(data) > TEXT_DIFF_LIMIT or b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def content_diff(path: str, before: FileState, after: bytes, *, secret: bool = False) -> Diff:
    """A text diff of a file, or a sha256 line pair for binary/huge/secret content."""
    old = before.content if before.is_file else None
    if not secret and (not before.is_file or _is_text(old)) and _is_text(after):
        return Diff(
            label=path,
            before=old.decode("utf-8") if old is not None else None,
            after=after.decode("utf-8"),
        )
    old_sha = before.sha256 if before.is_file else None
    what = "secret" if secret else "binary"
    return Diff(
        label=path,
        before=None if old_sha is None else f"{what} content (sha256 {old_sha})\n",
        after=f"{what} content (sha256 {sha256_hex(after)})\n",
        secret=secret,
    )


def is_secret_mode(mode: int | None) -> bool:
    """A file others may not read (0600, 0640, 0400) holds something private: no text diff."""
    return mode is not None and not mode & 0o004


def backup_step(path: str) -> Run:
    """Copy ``path`` aside as ``path.<timestamp>~`` before it is overwritten (Ansible's name)."""
    q = shlex.quote(path)
    return Run(f'cp -p {q} {q}."$(date +%Y%m%d%H%M%S)"~')


@dataclass(frozen=True)
class Validate(Step):
    """Ansible's ``validate``: check the new content with a command before it replaces ``path``.

    The content goes to a temporary file next to ``path`` (same filesystem, same
    permissions context), the command runs with ``%s`` replaced by that file's quoted
    name, and the file is removed whatever the outcome; a non-zero exit fails the task
    before the real file is touched (a broken sudoers never lands).
    """

    path: str
    content: bytes
    command: str

    def describe(self) -> str:
        return f"validate {self.path} with: {self.command}"

    def execute(self, ctx: StepContext) -> StepResult:
        tmp = posixpath.join(posixpath.dirname(self.path) or ".", f".{posixpath.basename(self.path)}.kubeform-validate")
        ctx.conn.put(self.content, tmp, mode=0o600, become=ctx.become)
        q = shlex.quote(tmp)
        res = ctx.conn.run(
            f"{self.command.replace('%s', q)}; rc=$?; rm -f {q}; exit $rc",
            become=ctx.become,
            become_user=ctx.become_user,
        )
        return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr, extra={"rc": res.rc})


def validate_arg(args: Mapping[str, Any]) -> str | None:
    """The ``validate`` command, which must name the file to check as ``%s`` (as in Ansible)."""
    value = args.get("validate")
    if value is None:
        return None
    if "%s" not in str(value):
        raise ModuleArgError("validate must contain %s (where the file to check goes)", field="validate")
    return str(value)


def write_file_steps(
    path: str,
    state: FileState,
    content: bytes,
    mode: int | str | None,
    owner: str | None,
    group: str | None,
    *,
    backup: bool = False,
    create_parent: bool = False,
    validate: str | None = None,
) -> tuple[Step, ...]:
    """Steps that (re)write ``path``: optional mkdir/backup, the upload, then attributes.

    The upload keeps an existing file's mode when no mode is given (a rewrite must not
    loosen ``0600``); a symbolic mode is applied with chmod after the upload.
    """
    steps: list[Step] = []
    if not state.exists and create_parent:
        parent = posixpath.dirname(path)
        if parent and parent != "/":
            steps.append(Run(f"mkdir -p {shlex.quote(parent)}"))
    if validate is not None:
        steps.append(Validate(path=path, content=content, command=validate))
    if backup and state.is_file:
        steps.append(backup_step(path))
    up_mode = mode if isinstance(mode, int) else state.mode if state.is_file else None
    steps.append(Upload(path=path, content=content, mode=up_mode, owner=owner, group=group))
    if isinstance(mode, str):
        steps.append(Run(f"chmod {shlex.quote(mode)} {shlex.quote(path)}"))
    return tuple(steps)


def str_arg(args: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` present in ``args`` (Ansible's aliases), as a string."""
    for name in names:
        value = args.get(name)
        if value is not None:
            return str(value)
    return None


def mode_schema() -> dict[str, Any]:
    """JSON Schema of a ``mode`` argument: octal string, symbolic string or int."""
    return {"type": ["string", "integer"]}


# Schema properties every whole-file writer (copy, template, lineinfile, blockinfile)
# takes, read back by ``plan_write``.
WRITE_ARGS: dict[str, Any] = {
    "mode": mode_schema(),
    "owner": {"type": "string"},
    "group": {"type": "string"},
    "backup": {"type": "boolean"},
    "validate": {"type": "string", "minLength": 1},
}


def path_schema(names: Sequence[str]) -> dict[str, Any]:
    """Schema properties for a path argument with Ansible's aliases."""
    return {name: {"type": "string", "minLength": 1} for name in names}


def split_lines(text: str) -> list[str]:
    """Lines with their ``\\n`` kept, split only on ``\\n`` (as Python's readlines)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def plan_content(
    path: str,
    state: FileState,
    content: bytes,
    *,
    mode: int | str | None = None,
    owner: str | None = None,
    group: str | None = None,
    backup: bool = False,
    create_parent: bool = False,
    follow: bool = False,
    force: bool = True,
    what: str = "",
    validate: str | None = None,
) -> list[Change]:
    """The change that makes ``path`` hold ``content`` with the given attributes, or [].

    Content is compared by sha256 (unchanged content is never sent). ``follow`` writes
    through a symlink to its resolved file (lineinfile/blockinfile do, copy does not).
    ``force`` False leaves an existing file's content alone (Ansible's ``force: no``).
    ``what`` is a short phrase for the summary (``"line added"``).
    """
    if state.exists and not state.is_file:
        raise ModuleArgError(
            f"{path} exists and is a {state.target_kind or state.kind}, not a file", field="path"
        )
    target = state.real if follow and state.kind == "link" and state.real else path
    new_sha = sha256_hex(content)
    if state.exists and (state.sha256 == new_sha or not force):
        attrs = attr_changes(target, state, mode, owner, group)
        if not attrs.steps:
            return []
        return [Change("change", f"{target}: {', '.join(attrs.notes)}", attrs.steps)]
    eff_mode = desired_mode(mode, state.mode, False) if mode is not None else state.mode
    diff = content_diff(target, state, content, secret=is_secret_mode(eff_mode))
    steps = write_file_steps(
        target, state, content, mode, owner, group, backup=backup, create_parent=create_parent,
        validate=validate,
    )
    if not state.exists:
        summary = f"create {target}" + (f" ({what})" if what else "")
        return [Change("add", summary, steps, diff)]
    attrs = attr_changes(target, state, mode, owner, group)
    notes = ([what] if what else ["content"]) + list(attrs.notes)
    return [Change("change", f"{target}: {', '.join(notes)}", steps, diff)]


def plan_write(
    path: str,
    state: FileState,
    content: bytes,
    args: Mapping[str, Any],
    *,
    create_parent: bool = False,
    follow: bool = False,
    what: str = "",
) -> list[Change]:
    """``plan_content`` with the attributes a task's ``WRITE_ARGS`` (and ``force``) ask for.

    One place reads mode/owner/group/backup/force the same way for every module that
    writes a whole file, so they cannot drift apart.
    """
    return plan_content(
        path,
        state,
        content,
        mode=parse_mode(args.get("mode")),
        owner=args.get("owner"),
        group=args.get("group"),
        backup=bool(args.get("backup", False)),
        force=bool(args.get("force", True)),
        create_parent=create_parent,
        follow=follow,
        what=what,
        validate=validate_arg(args),
    )
