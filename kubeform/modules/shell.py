"""shell: run a command line through a shell (pipes, redirections, variables).

Same ``creates``/``removes``/``chdir``/``stdin`` semantics as ``command``; the line is
passed to ``/bin/sh -c`` as written, or to ``executable -c`` (e.g. ``/bin/bash``).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import ModuleArgError
from kubeform.modules.command import COMMON, RunsCommand


class Shell(RunsCommand):
    """Ansible's shell: free form or ``cmd``, optional ``executable``."""

    name: ClassVar[str] = "shell"
    free_form: ClassVar[bool] = True
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {**COMMON, "executable": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    }

    @staticmethod
    def command_line(args: Mapping[str, Any]) -> str:
        raw = args.get("_raw_params") or args.get("cmd")
        if not raw or not str(raw).strip():
            raise ModuleArgError("no command given (free form or cmd)", field="cmd")
        exe = args.get("executable")
        return f"{shlex.quote(str(exe))} -c {shlex.quote(str(raw))}" if exe else str(raw)
