"""copy: put a controller-side file (or inline ``content``) at ``dest`` on the host.

``prepare`` reads ``src`` on the controller into ``_content`` (bytes, never shown: plans
and summaries name the path and a sha256 only); ``plan`` compares sha256 with the host's
file, so an unchanged file is never sent.
"""

from __future__ import annotations

import posixpath
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import (
    WRITE_ARGS,
    FileState,
    attr_changes,
    file_fact,
    parse_mode,
    plan_write,
)
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, PrepareContext, Run


def content_bytes(args: Mapping[str, Any]) -> bytes:
    """The bytes to write: ``_content`` from prepare, else the inline ``content``."""
    raw = args.get("_content")
    if raw is None:
        raw = args.get("content")
    if raw is None:
        raise ModuleArgError("one of src or content is required", field="src")
    if isinstance(raw, bytes):
        return raw
    return str(raw).encode("utf-8")


def dest_path(args: Mapping[str, Any]) -> str:
    """``dest``; a trailing ``/`` means "into this directory", named after ``src``."""
    dest = str(args["dest"])
    if dest.endswith("/"):
        src = args.get("src")
        if not src:
            raise ModuleArgError("dest ending in / needs src to name the file", field="dest")
        return dest + posixpath.basename(str(src).rstrip("/"))
    return dest


FILE_ARGS: dict[str, Any] = {
    "dest": {"type": "string", "minLength": 1},
    **WRITE_ARGS,
    "force": {"type": "boolean"},
}


class Copy(Module):
    """Ansible's copy for single files: ``src`` or ``content`` to ``dest``."""

    name: ClassVar[str] = "copy"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **FILE_ARGS,
            "src": {"type": "string", "minLength": 1},
            "content": {"type": "string"},
            "remote_src": {"type": "boolean"},
        },
        "required": ["dest"],
        "additionalProperties": False,
    }

    def prepare(self, args: Mapping[str, Any], ctx: PrepareContext) -> dict[str, Any]:
        """Read ``src`` on the controller, so the plan can compare hashes."""
        out = dict(args)
        src = args.get("src")
        if src is not None and args.get("content") is not None:
            raise ModuleArgError("src and content are mutually exclusive", field="content")
        if src is not None and args.get("remote_src"):
            if str(src).endswith("/"):
                raise ModuleArgError("copying a directory (src ending in /) is not supported", field="src")
            return out  # read on the host: see facts/plan
        if src is not None:
            if str(src).endswith("/"):
                raise ModuleArgError(
                    "copying a directory (src ending in /) is not supported", field="src"
                )
            out["_content"] = ctx.read_local(str(src))
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        if args.get("remote_src") and args.get("src"):
            return [file_fact(dest_path(args)), file_fact(str(args["src"]))]
        return [file_fact(dest_path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("src") is not None and args.get("content") is not None:
            raise ModuleArgError("src and content are mutually exclusive", field="content")
        dest = dest_path(args)
        if args.get("remote_src"):
            return _plan_remote(dest, args, facts)
        return plan_write(dest, facts[f"file:{dest}"], content_bytes(args), args)


def _plan_remote(dest: str, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
    """``remote_src``: ``src`` is a file on the host; compared by sha256, copied with ``cp``."""
    if not args.get("src"):
        raise ModuleArgError("remote_src needs src", field="src")
    src: FileState = facts[f"file:{args['src']}"]
    if not src.is_file:
        raise ModuleArgError(f"Source {args['src']} not found" if not src.exists else f"{args['src']} is not a file", field="src")
    cur: FileState = facts[f"file:{dest}"]
    if src.content is not None:  # small file: the usual write, with a diff
        return plan_write(dest, cur, src.content, args)
    if cur.exists and not cur.is_file:
        raise ModuleArgError(f"{dest} exists and is a {cur.kind}, not a file", field="dest")
    mode, owner, group = parse_mode(args.get("mode")), args.get("owner"), args.get("group")
    if cur.exists and (cur.sha256 == src.sha256 or not args.get("force", True)):
        attrs = attr_changes(dest, cur, mode, owner, group)
        return [Change("change", f"{dest}: {', '.join(attrs.notes)}", attrs.steps)] if attrs.steps else []
    q_src, q_dest = shlex.quote(str(args["src"])), shlex.quote(dest)
    steps = (Run(f"cp -f {q_src} {q_dest}.kubeform.tmp && mv -f {q_dest}.kubeform.tmp {q_dest}"),
             *attr_changes(dest, None, mode if mode is not None else src.mode, owner, group).steps)  # fmt: skip
    diff = Diff(dest, f"sha256:{cur.sha256}" if cur.exists else None, f"sha256:{src.sha256} ({src.size} bytes)")
    return [Change("change" if cur.exists else "add", f"{'update' if cur.exists else 'create'} {dest} from {args['src']}", steps, diff)]
