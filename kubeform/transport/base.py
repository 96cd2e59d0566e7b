"""What every transport offers the engine: run a command, put a file, close.

The engine and the modules only see this protocol, so planning and applying work the
same over SSH (paramiko) and on the local machine, and tests can use a fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class CommandResult:
    """Outcome of one command on a host."""

    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class TransportError(Exception):
    """A command could not be run at all (as opposed to running and failing)."""


class Unreachable(TransportError):
    """The host could not be reached or authenticated; ends as 'unreachable' in the recap."""


class HostKeyRejected(Unreachable):
    """The host's SSH key is unknown (and not trusted) or has changed."""


class Connection(Protocol):
    """One open, reusable session to a host. Implementations must be thread-safe per call."""

    name: str

    def run(
        self,
        command: str,
        *,
        become: bool = False,
        become_user: str = "root",
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run ``command`` through ``/bin/sh -c`` (with sudo when ``become``)."""
        ...

    def put(
        self,
        content: bytes,
        path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Write ``content`` to ``path`` atomically (temp file + rename)."""
        ...

    def close(self) -> None: ...
