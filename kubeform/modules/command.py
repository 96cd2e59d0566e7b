"""command: run a program on the host (no shell), Ansible-style ``creates``/``removes``.

A command that runs always counts as a change (the engine's ``changed_when`` refines
that); ``creates`` (a path or glob that, once present, means "done") and ``removes``
(a path that must exist for the command to run) make it idempotent: the plan is empty
when they say so. Arguments are split as Ansible splits them (``shlex``) and re-quoted
for ``/bin/sh -c``, so ``|``, ``>`` and ``$VAR`` stay literal arguments as in Ansible.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Change, Fact, Module, ModuleArgError, Run, StepResult

GLOB = re.compile(r"([*?[\]])")


def glob_word(pattern: str) -> str:
    """``pattern`` as one shell word whose ``* ? [ ]`` still glob and nothing else expands."""
    return "".join(
        part if GLOB.fullmatch(part) else shlex.quote(part) for part in GLOB.split(pattern) if part
    )


def exists_fact(path: str) -> Fact:
    """Whether anything matches ``path`` (a glob, like Ansible's creates/removes)."""
    cmd = (
        f"( r=absent; for f in {glob_word(path)}; do "
        'if [ -e "$f" ] || [ -L "$f" ]; then r=present; break; fi; done; echo $r )'
    )
    return Fact(key=f"exists:{path}", command=cmd, parse=lambda out, rc: out.strip() == "present")


def guard_paths(args: Mapping[str, Any]) -> dict[str, str]:
    """creates/removes as absolute paths (relative ones are under ``chdir``, as Ansible)."""
    out: dict[str, str] = {}
    for key in ("creates", "removes"):
        value = args.get(key)
        if value:
            path = str(value)
            chdir = args.get("chdir")
            if chdir and not path.startswith("/"):
                path = posixpath.join(str(chdir), path)
            out[key] = path
    return out


def guard_facts(args: Mapping[str, Any]) -> list[Fact]:
    return [exists_fact(p) for p in guard_paths(args).values()]


def skip_reason(args: Mapping[str, Any], facts: Mapping[str, Any]) -> str | None:
    """Ansible's message when creates/removes say the command need not run, else None."""
    paths = guard_paths(args)
    if "creates" in paths and facts[f"exists:{paths['creates']}"]:
        return f"skipped, since {paths['creates']} exists"
    if "removes" in paths and not facts[f"exists:{paths['removes']}"]:
        return f"skipped, since {paths['removes']} does not exist"
    return None


def stdin_bytes(args: Mapping[str, Any]) -> bytes | None:
    data = args.get("stdin")
    if data is None:
        return None
    text = str(data)
    if args.get("stdin_add_newline", True):
        text += "\n"
    return text.encode("utf-8")


def with_chdir(args: Mapping[str, Any], command: str) -> str:
    chdir = args.get("chdir")
    return f"cd {shlex.quote(str(chdir))} && {command}" if chdir else command


def plan_run(args: Mapping[str, Any], facts: Mapping[str, Any], command: str) -> list[Change]:
    """[] when creates/removes are satisfied, else one change that runs ``command``."""
    if skip_reason(args, facts):
        return []
    return [
        Change(
            "change", f"run {command}", (Run(with_chdir(args, command), stdin=stdin_bytes(args)),)
        )
    ]


def run_result(
    args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult], cmd: str
) -> dict[str, Any]:
    """Ansible's registered keys: rc, stdout(_lines), stderr(_lines), cmd; msg when skipped."""
    if not steps:
        reason = skip_reason(args, facts) or ""
        return {
            "rc": 0,
            "stdout": reason,
            "stdout_lines": [reason],
            "stderr": "",
            "stderr_lines": [],
            "cmd": cmd,
            "msg": reason,
        }
    last = steps[-1]
    strip = bool(args.get("strip_empty_ends", True))
    out = last.stdout.rstrip("\r\n") if strip else last.stdout
    err = last.stderr.rstrip("\r\n") if strip else last.stderr
    return {
        "rc": last.extra.get("rc", last.rc),
        "stdout": out,
        "stderr": err,
        "stdout_lines": out.splitlines(),
        "stderr_lines": err.splitlines(),
        "cmd": cmd,
    }


COMMON: dict[str, Any] = {
    "_raw_params": {"type": "string"},
    "cmd": {"type": "string"},
    "chdir": {"type": "string", "minLength": 1},
    "creates": {"type": "string", "minLength": 1},
    "removes": {"type": "string", "minLength": 1},
    "stdin": {"type": "string"},
    "stdin_add_newline": {"type": "boolean"},
    "strip_empty_ends": {"type": "boolean"},
}


class RunsCommand(Module):
    """command and shell alike: creates/removes guards, chdir, stdin, Ansible's result keys.

    Subclasses only say how their arguments become the line for ``/bin/sh -c``.
    """

    @staticmethod
    @abstractmethod
    def command_line(args: Mapping[str, Any]) -> str:
        """The line to run (raises ModuleArgError when no command is given)."""

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return guard_facts(args)

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        return plan_run(args, facts, self.command_line(args))

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        return run_result(args, facts, steps, self.command_line(args))


class Command(RunsCommand):
    """Ansible's command: free form, ``cmd`` or ``argv``; never through a shell."""

    name: ClassVar[str] = "command"
    free_form: ClassVar[bool] = True
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            **COMMON,
            "argv": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 1},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def command_line(args: Mapping[str, Any]) -> str:
        """The re-quoted command line for ``/bin/sh -c``."""
        raw = args.get("_raw_params") or args.get("cmd")
        argv = args.get("argv")
        if raw and argv:
            raise ModuleArgError(
                "use either a free-form command / cmd or argv, not both", field="argv"
            )
        if argv:
            return shlex.join(str(a) for a in argv)
        if not raw or not str(raw).strip():
            raise ModuleArgError("no command given (free form, cmd or argv)", field="cmd")
        try:
            words = shlex.split(str(raw))
        except ValueError as err:
            raise ModuleArgError(f"cannot split the command: {err}", field="cmd") from err
        return shlex.join(words)
