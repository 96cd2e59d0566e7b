"""Local transport for ``ansible_connection: local``: the same contract via subprocess.

Why it mirrors SSHConnection exactly (``/bin/sh -c``, sudo wrapping, temp-and-rename
put): a playbook must mean the same thing on the operator's machine as over SSH, and
the engine's tests can run against it without a server.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import tempfile

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
from kubeform.transport.errors import CommandTimeout


class LocalConnection:
    """Runs commands and writes files on this machine, as the current user (or via sudo)."""

    def __init__(self, host: Host) -> None:
        self.name = host.name
        self.host = host
        self.login_user = getpass.getuser()
        self._sudo_password_needed: dict[str, bool] = {}

    def __repr__(self) -> str:
        return f"LocalConnection({self.name})"

    def connect(self) -> None:
        """Nothing to open; present so the pool treats every transport alike."""

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
        )
        data = stdin
        if password is not None:
            data = password.encode() + b"\n" + (stdin or b"")
        result = self._exec(wrapped, data, timeout, shown=command)
        if use_sudo and result.rc != 0 and stderr_mentions(result.stderr, TTY_REQUIRED_MARKERS):
            raise TransportError(f"{self.name}: sudo requires a tty (requiretty)")
        return result

    def _sudo_password(self, become_user: str) -> str | None:
        password = self.host.become_password
        if password is None:
            return None
        needed = self._sudo_password_needed.get(become_user)
        if needed is None:
            probe = self._exec(sudo_probe_command(become_user), None, 30)
            needed = probe.rc != 0 and stderr_mentions(probe.stderr, PASSWORD_REQUIRED_MARKERS)
            self._sudo_password_needed[become_user] = needed
        return password if needed else None

    def _exec(
        self, command: str, stdin: bytes | None, timeout: float | None, shown: str | None = None
    ) -> CommandResult:
        # The wrapped command is itself "/bin/sh -c ..." or "sudo ... /bin/sh -c ...",
        # so one more shell parses it exactly as sshd's login shell would.
        # Its own process group, so a timeout ends the whole command, not only the shell.
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise TransportError(f"{self.name}: cannot run /bin/sh: {exc.strerror}") from None
        try:
            out, err = proc.communicate(stdin if stdin is not None else b"", timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CommandTimeout(f"{self.name}: timed out: {shown or command}") from None
        except BaseException:
            _kill_group(proc)
            raise
        return CommandResult(
            rc=proc.returncode,
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
        )

    def put(
        self,
        content: bytes,
        path: str,
        *,
        mode: int | None = None,
        become: bool = False,
    ) -> None:
        """Replace ``path`` atomically (temp file in the same directory, chmod, rename)."""
        become_user = self.host.become_user
        if needs_sudo(self.login_user, become, become_user):
            result = self.run(
                install_script(path, mode), become=True, become_user=become_user, stdin=content
            )
            if not result.ok:
                raise TransportError(f"{self.name}: cannot write {path}: {result.stderr.strip()}")
            return
        directory, base = os.path.split(path)
        try:
            final_mode = mode
            if final_mode is None:
                try:
                    final_mode = os.stat(path).st_mode & 0o7777
                except FileNotFoundError:
                    final_mode = 0o644
            fd, tmp = tempfile.mkstemp(prefix=f".{base}.kf-", suffix=".tmp", dir=directory or ".")
        except OSError as exc:
            raise TransportError(f"{self.name}: cannot write {path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.chmod(tmp, final_mode)
            os.replace(tmp, path)
        except OSError as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise TransportError(f"{self.name}: cannot write {path}: {exc.strerror}") from None

    def close(self) -> None:
        """Nothing to close."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command's process group (we started it with its own session) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
