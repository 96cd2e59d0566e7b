"""What the SSH and local transports share above "run this exact line".

Why one base class: become must mean the same over SSH and on the operator's machine
(the same sudo wrapping, the same once-per-connection probe for a become password,
the same requiretty error, the same temp-and-rename through sudo when the login user
cannot write a file). Each transport only says how to execute one wrapped line
(``_exec``) and how to write a file it may write itself (``_put_direct``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from kubeform.inventory.model import Host
from kubeform.transport.base import CommandResult, TransportError
from kubeform.transport.commands import (
    PASSWORD_REQUIRED_MARKERS,
    TTY_REQUIRED_MARKERS,
    install_script,
    needs_sudo,
    stderr_mentions,
    sudo_probe_command,
    wrap_command,
)


def decoded_result(rc: int, stdout: bytes, stderr: bytes) -> CommandResult:
    """A command's raw output as text; undecodable bytes are replaced, never an error."""
    return CommandResult(
        rc=rc,
        stdout=stdout.decode("utf-8", "replace"),
        stderr=stderr.decode("utf-8", "replace"),
    )


class ShellConnection(ABC):
    """A connection that runs ``/bin/sh -c`` lines as ``login_user`` (sudo for become)."""

    # Whether the wrapped line carries coreutils ``timeout`` (SSH: closing a channel does
    # not stop the command; locally the process group is killed instead).
    kill_on_host: ClassVar[bool] = False

    name: str
    host: Host
    login_user: str

    def __init__(self, host: Host, login_user: str) -> None:
        self.name = host.name
        self.host = host
        self.login_user = login_user
        # become_user -> whether sudo wants the password (probed once per connection)
        self._sudo_password_needed: dict[str, bool] = {}

    @abstractmethod
    def _exec(
        self, command: str, stdin: bytes | None, timeout: float | None, shown: str | None = None
    ) -> CommandResult:
        """Execute one already wrapped line; ``shown`` is what messages call it."""

    @abstractmethod
    def _put_direct(self, content: bytes, path: str, mode: int | None) -> None:
        """Replace ``path`` atomically as the login user (no sudo involved)."""

    def _probe_timeout(self) -> float:
        """How long the become-password probe may take."""
        return 30.0

    def run(
        self,
        command: str,
        *,
        become: bool = False,
        become_user: str = "root",
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run ``command`` through ``/bin/sh -c`` (with sudo when ``become`` needs it)."""
        use_sudo = needs_sudo(self.login_user, become, become_user)
        password = self._sudo_password(become_user) if use_sudo else None
        wrapped = wrap_command(
            command,
            login_user=self.login_user,
            become=become,
            become_user=become_user,
            sudo_password=password is not None,
            kill_after=timeout if self.kill_on_host else None,
        )
        data = stdin
        if password is not None:
            data = password.encode() + b"\n" + (stdin or b"")
        result = self._exec(wrapped, data, timeout, shown=command)
        if use_sudo and result.rc != 0 and stderr_mentions(result.stderr, TTY_REQUIRED_MARKERS):
            raise TransportError(
                f"{self.name}: sudo requires a tty (requiretty); allow it without one: "
                f"'Defaults:{self.login_user} !requiretty' in /etc/sudoers.d/"
            )
        return result

    def _sudo_password(self, become_user: str) -> str | None:
        """The become password when sudo needs one (probed once per connection), else None."""
        password = self.host.become_password
        if password is None:
            return None
        needed = self._sudo_password_needed.get(become_user)
        if needed is None:
            probe = self._exec(sudo_probe_command(become_user), None, self._probe_timeout())
            needed = probe.rc != 0 and stderr_mentions(probe.stderr, PASSWORD_REQUIRED_MARKERS)
            self._sudo_password_needed[become_user] = needed
        return password if needed else None

    def put(
        self,
        content: bytes,
        path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Replace ``path`` atomically: temp file in the same directory, chmod, rename.

        As a login user who must become someone else, the content goes through sudo on
        stdin into the same temp-and-rename script (no world-readable upload in /tmp).
        ``mode`` None keeps an existing file's mode (new files: 0644).
        """
        become_user = self.host.become_user
        if needs_sudo(self.login_user, become, become_user):
            result = self.run(
                install_script(path, mode), become=True, become_user=become_user, stdin=content
            )
            if not result.ok:
                raise self.write_error(path, result.stderr.strip())
            return
        self._put_direct(content, path, mode)

    def write_error(self, path: str, reason: str) -> TransportError:
        """The one message for a file that could not be written."""
        return TransportError(f"{self.name}: cannot write {path}: {reason}")
