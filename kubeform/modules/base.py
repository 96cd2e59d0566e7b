"""The shape of a task module: facts it needs, a pure plan, and steps to apply it.

Modelled on pyinfra: a module names the facts it needs (a shell probe plus a parser),
``plan(args, facts)`` is a pure function that returns the changes to make (empty when
the host already matches), and each change is a list of steps the engine executes. Plan
mode stops after ``plan``; the data-driven tests feed facts and arguments in and compare
the changes (summaries, diffs, commands) with what is expected.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from kubeform.transport.base import CommandResult, Connection

Action = Literal["add", "change", "remove"]


@dataclass(frozen=True)
class Fact:
    """A probe of the host: a shell command and a pure parser of its output.

    ``key`` identifies the fact (e.g. ``"file:/etc/hosts"``); the engine batches the
    commands of all facts a host needs into one round trip and hands each parser its own
    stdout and exit code. ``volatile`` facts (a port that may close between the up-front
    batch and the task) are never fetched ahead or reused: the engine probes them right
    before each task that needs them, in that task's batch.
    """

    key: str
    command: str
    parse: Callable[[str, int], Any]
    become: bool = False
    volatile: bool = False


@dataclass(frozen=True)
class Diff:
    """Before/after text of one thing, shown as a unified diff (files) or a line pair."""

    label: str
    before: str | None
    after: str | None
    secret: bool = False


class StepContext(Protocol):
    """What a step may use while it runs: the connection and the task's become setting."""

    conn: Connection
    become: bool
    become_user: str

    def reconnect(self, timeout: float) -> Connection:
        """Drop the connection and open a new one, retrying until ``timeout`` seconds."""
        ...


@dataclass(frozen=True)
class StepResult:
    rc: int = 0
    stdout: str = ""
    stderr: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Step(ABC):
    """One side effect. Built-ins: ``Run`` and ``Upload``; modules may add their own."""

    @abstractmethod
    def describe(self) -> str:
        """A one-line, secret-free description for plans and logs."""

    @abstractmethod
    def execute(self, ctx: StepContext) -> StepResult: ...


@dataclass(frozen=True)
class Run(Step):
    """Run a shell command; fails the task unless its exit code is in ``ok_rcs``."""

    command: str
    ok_rcs: tuple[int, ...] = (0,)
    stdin: bytes | None = None
    timeout: float | None = None

    def describe(self) -> str:
        return self.command

    def execute(self, ctx: StepContext) -> StepResult:
        res: CommandResult = ctx.conn.run(
            self.command,
            become=ctx.become,
            become_user=ctx.become_user,
            stdin=self.stdin,
            timeout=self.timeout,
        )
        rc = 0 if res.rc in self.ok_rcs else (res.rc or 1)
        return StepResult(rc=rc, stdout=res.stdout, stderr=res.stderr, extra={"rc": res.rc})


@dataclass(frozen=True)
class Upload(Step):
    """Write a file's whole content (atomically), then set owner/group when given."""

    path: str
    content: bytes
    mode: int | None = None
    owner: str | None = None
    group: str | None = None

    def describe(self) -> str:
        extra = f" mode {self.mode:04o}" if self.mode is not None else ""
        return f"upload {self.path} ({len(self.content)} bytes){extra}"

    def execute(self, ctx: StepContext) -> StepResult:
        ctx.conn.put(self.content, self.path, mode=self.mode, become=ctx.become)
        if self.owner or self.group:
            who = (self.owner or "") + (f":{self.group}" if self.group else "")
            res = ctx.conn.run(
                f"chown {shlex.quote(who)} {shlex.quote(self.path)}",
                become=ctx.become,
                become_user=ctx.become_user,
            )
            return StepResult(rc=res.rc, stdout=res.stdout, stderr=res.stderr)
        return StepResult()


@dataclass(frozen=True)
class Change:
    """One thing a task would change on a host, and how."""

    action: Action
    summary: str
    steps: tuple[Step, ...] = ()
    diff: Diff | None = None


class PrepareContext(Protocol):
    """Controller-side help for ``Module.prepare``: local files and templating."""

    base_dir: str  # directory of the playbook (relative ``src`` paths resolve here)

    def read_local(self, path: str) -> bytes:
        """Read a controller-side file (relative to ``base_dir``, then ``files/`` / ``templates/``)."""
        ...

    def render(self, text: str) -> str:
        """Render Jinja2 ``text`` with the task's variables (undefined names are errors)."""
        ...


class Module(ABC):
    """A task module. Subclasses set ``name`` and ``schema``, and implement the two methods.

    ``schema`` is a JSON Schema (draft 2020-12) of the module's arguments, using
    Ansible's argument names where Ansible has the same module. The engine validates
    arguments against it before calling ``facts`` or ``plan``.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    # A free-form argument string (``command: ls -l``) is passed as args["_raw_params"].
    free_form: ClassVar[bool] = False
    # Names of the facts its result sets under ``ansible_facts`` (``packages``): defined
    # for the checks made before connecting, set top-level and in ``ansible_facts``.
    fact_names: ClassVar[tuple[str, ...]] = ()

    def prepare(self, args: Mapping[str, Any], ctx: PrepareContext) -> dict[str, Any]:
        """Controller-side, before facts/plan: e.g. read ``src`` or render a template.

        Returns the arguments ``facts``/``plan`` see (default: unchanged). Keys starting
        with ``_`` are internal (e.g. ``_content``) and are not schema-validated.
        """
        return dict(args)

    @abstractmethod
    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        """The facts ``plan`` needs for these arguments (may be empty)."""

    @abstractmethod
    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        """Pure: the changes that bring the host to ``args``; ``[]`` when it already is."""

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        """Extra keys for the registered result (e.g. stdout of ``command``). Override if useful."""
        if not steps:
            return {}
        last = steps[-1]
        return {
            "rc": last.extra.get("rc", last.rc),
            "stdout": last.stdout,
            "stderr": last.stderr,
            "stdout_lines": last.stdout.splitlines(),
            "stderr_lines": last.stderr.splitlines(),
        }


class ModuleArgError(ValueError):
    """Arguments that make sense to the schema but not to the module (e.g. conflicting)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
