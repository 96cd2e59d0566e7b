"""fetch: a file of the host copied to the controller (Ansible's ``ansible.builtin.fetch``).

The host's file is probed (sha256, small contents) and compared with the controller's
copy, so an unchanged file is not fetched again. Without ``flat`` the copy goes to
``dest/<inventory_hostname>/<src>``, as in Ansible; with ``flat`` to ``dest`` (into it,
named after ``src``, when ``dest`` ends with ``/``). A missing source fails the task
unless ``fail_on_missing: false``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kubeform.modules._files import FileState, content_diff, file_fact
from kubeform.modules.base import (
    Change,
    Fact,
    Module,
    ModuleArgError,
    PrepareContext,
    Step,
    StepContext,
    StepResult,
)


@dataclass(frozen=True)
class FetchToController(Step):
    """Read the host's file (base64 over the connection) and write it on the controller."""

    src: str
    dest: str

    def describe(self) -> str:
        return f"fetch {self.src} -> {self.dest} (controller)"

    def execute(self, ctx: StepContext) -> StepResult:
        res = ctx.conn.run(f"base64 < {shlex.quote(self.src)}", become=ctx.become, become_user=ctx.become_user)
        if res.rc != 0:
            return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr)
        data = base64.b64decode("".join(res.stdout.split()))
        os.makedirs(os.path.dirname(self.dest) or ".", exist_ok=True)
        tmp = self.dest + ".kubeform.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.dest)
        return StepResult()


class Fetch(Module):
    """``src``, ``dest``, ``flat``, ``fail_on_missing``, ``validate_checksum``."""

    name: ClassVar[str] = "fetch"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["src", "dest"],
        "properties": {
            "src": {"type": "string", "minLength": 1},
            "dest": {"type": "string", "minLength": 1},
            "flat": {"type": "boolean"},
            "fail_on_missing": {"type": "boolean"},
            "validate_checksum": {"type": "boolean"},
        },
    }

    def prepare(self, args: Mapping[str, Any], ctx: PrepareContext) -> dict[str, Any]:
        out = dict(args)
        src, dest = str(args["src"]), os.path.expanduser(str(args["dest"]))
        if args.get("flat"):
            local = dest + posixpath.basename(src) if dest.endswith("/") else dest
        else:
            host = ctx.render("{{ inventory_hostname }}")
            local = os.path.join(dest, host, src.lstrip("/"))
        if not os.path.isabs(local):
            local = os.path.join(ctx.base_dir, local)
        out["_local"] = local
        if os.path.isfile(local):
            with open(local, "rb") as f:
                data = f.read()
            out["_local_sha"] = hashlib.sha256(data).hexdigest()
            out["_local_content"] = data if len(data) <= 256 * 1024 else None
        return out

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(str(args["src"]))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        src = str(args["src"])
        state: FileState = facts[f"file:{src}"]
        local = str(args.get("_local") or args["dest"])
        if not state.is_file:
            if args.get("fail_on_missing", True):
                raise ModuleArgError(f"the remote file does not exist (or is not a file): {src}", field="src")
            return []
        if args.get("_local_sha") == state.sha256:
            return []
        before_content = args.get("_local_content")
        before = FileState(path=local, kind="file" if args.get("_local_sha") else "absent", content=before_content)
        diff = content_diff(local, before, state.content) if state.content is not None else None
        return [Change("change" if args.get("_local_sha") else "add", f"fetch {src} to {local}", (FetchToController(src, local),), diff)]
