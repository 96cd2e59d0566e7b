"""A host run's side of the wire: its connection (opened lazily, reopened after a
reboot), the context steps run in, and running a task's planned changes.

The I/O edge of a host run: everything here talks to the host. An unreachable host
becomes ``HostUnreachable``, which stops that host's run as "unreachable".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from kubeform.inventory.model import Host
from kubeform.modules.base import Change, StepResult
from kubeform.transport.base import CommandResult, Connection, Unreachable


class ConnectionSource(Protocol):
    """What the runner needs of a connection pool (kubeform.transport.pool.ConnectionPool)."""

    def get(self, host: Host) -> Connection: ...

    def reconnect(self, host: Host, timeout: float) -> Connection: ...


class HostUnreachable(Exception):
    """Raised inside a host run to stop it as unreachable."""


class HostConnection:
    """The connection of one host run; ``on_reconnect`` is told when it was reopened."""

    def __init__(self, pool: ConnectionSource, host: Host, on_reconnect: Callable[[], None]) -> None:
        self._pool = pool
        self._host = host
        self._on_reconnect = on_reconnect
        self.conn: Connection | None = None

    def get(self) -> Connection:
        if self.conn is None:
            try:
                self.conn = self._pool.get(self._host)
            except Unreachable as err:
                raise HostUnreachable(str(err)) from None
        return self.conn

    def reconnect(self, timeout: float) -> Connection:
        try:
            self.conn = self._pool.reconnect(self._host, timeout)
        except Unreachable as err:
            raise HostUnreachable(str(err)) from None
        self._on_reconnect()
        return self.conn

    def run_script(self, script: str, become: bool, become_user: str) -> CommandResult:
        try:
            return self.get().run(script, become=become, become_user=become_user)
        except Unreachable as err:
            raise HostUnreachable(str(err)) from None


class HostStepContext:
    """``StepContext`` for steps: the host's connection, become, and reconnect via the pool."""

    def __init__(self, connection: HostConnection, become: bool, become_user: str, env_prefix: str = "") -> None:
        self._connection = connection
        self._env_prefix = env_prefix
        self.conn = self._wrap(connection.get())
        self.become = become
        self.become_user = become_user

    def _wrap(self, conn: Connection) -> Connection:
        return EnvConnection(conn, self._env_prefix) if self._env_prefix else conn

    def reconnect(self, timeout: float) -> Connection:
        self.conn = self._wrap(self._connection.reconnect(timeout))
        return self.conn


class EnvConnection:
    """A connection whose commands start with the task's ``environment`` (``export ...;``)."""

    def __init__(self, conn: Connection, prefix: str) -> None:
        self._conn = conn
        self._prefix = prefix
        self.name = conn.name

    def run(
        self, command: str, *, become: bool = False, become_user: str = "root", stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:  # fmt: skip
        return self._conn.run(
            f"{self._prefix}{command}", become=become, become_user=become_user, stdin=stdin, timeout=timeout
        )

    def put(self, content: bytes, path: str, *, mode: int | None = None, become: bool = False) -> None:
        self._conn.put(content, path, mode=mode, become=become)

    def close(self) -> None:
        self._conn.close()


def step_failure(what: str, res: StepResult) -> str:
    """The message of a failed step: what ran, its exit code, its last output."""
    detail = (res.stderr or res.stdout).strip()
    return f"{what} failed (rc={res.extra.get('rc', res.rc)})" + (f": {detail}" if detail else "")


def execute_changes(changes: Sequence[Change], ctx: HostStepContext, no_log: bool) -> tuple[list[StepResult], str]:
    """Run the steps of every change in order, stopping at the first failure.

    Returns every step's result and the failure message ("" when all succeeded).
    """
    steps: list[StepResult] = []
    try:
        for change in changes:
            for step in change.steps:
                res = step.execute(ctx)
                steps.append(res)
                if not res.ok:
                    return steps, step_failure("a step" if no_log else step.describe(), res)
    except Unreachable as err:
        raise HostUnreachable(str(err)) from None
    return steps, ""
