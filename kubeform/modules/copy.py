"""copy: put a controller-side file (or inline ``content``) at ``dest`` on the host.

``prepare`` reads ``src`` on the controller into ``_content`` (bytes, never shown: plans
and summaries name the path and a sha256 only); ``plan`` compares sha256 with the host's
file, so an unchanged file is never sent.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import WRITE_ARGS, file_fact, plan_write
from kubeform.modules.base import Change, Fact, Module, ModuleArgError, PrepareContext


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
        if src is not None:
            if str(src).endswith("/"):
                raise ModuleArgError(
                    "copying a directory (src ending in /) is not supported", field="src"
                )
            out["_content"] = ctx.read_local(str(src))
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(dest_path(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        if args.get("src") is not None and args.get("content") is not None:
            raise ModuleArgError("src and content are mutually exclusive", field="content")
        dest = dest_path(args)
        return plan_write(dest, facts[f"file:{dest}"], content_bytes(args), args)
