"""slurp: a file of the host, base64-encoded, in the registered result (``content``).

Read-only, so the result is real in a plan too (kubespray reads /etc/resolv.conf this
way). Files larger than 4 MiB are refused: slurp is for small files.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, ModuleArgError, StepResult

LIMIT = 4 * 1024 * 1024


def parse_slurp(out: str, rc: int) -> dict[str, Any]:
    head, _, body = out.partition("\n")
    return {"state": head.strip(), "content": body.replace("\n", "").strip()}


class Slurp(Module):
    """``src`` (alias ``path``)."""

    name: ClassVar[str] = "slurp"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"src": {"type": "string", "minLength": 1}, "path": {"type": "string", "minLength": 1}},
    }

    @staticmethod
    def _src(args: Mapping[str, Any]) -> str:
        src = args.get("src", args.get("path"))
        if not src:
            raise ModuleArgError("src is required", field="src")
        return str(src)

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        q = shlex.quote(self._src(args))
        cmd = (f"( if [ ! -e {q} ]; then echo missing; elif [ -d {q} ]; then echo directory; elif [ ! -r {q} ]; then echo unreadable; "
               f"elif [ \"$(stat -L -c %s {q})\" -gt {LIMIT} ]; then echo toolarge; else echo ok; base64 < {q}; fi )")  # fmt: skip
        return [Fact(f"slurp:{self._src(args)}", cmd, parse_slurp, volatile=True)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        found = facts[f"slurp:{self._src(args)}"]
        why = {"missing": "file not found", "directory": "source is a directory and must be a file",
               "unreadable": "file is not readable", "toolarge": f"file is larger than {LIMIT} bytes"}  # fmt: skip
        if found["state"] != "ok":
            raise ModuleArgError(f"{self._src(args)}: {why.get(found['state'], found['state'])}", field="src")
        return []

    def result(self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]) -> dict[str, Any]:
        found = facts.get(f"slurp:{self._src(args)}") or {}
        return {"content": found.get("content", ""), "encoding": "base64", "source": self._src(args)}
