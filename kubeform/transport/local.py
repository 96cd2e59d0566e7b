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
from kubeform.transport.errors import CommandTimeout
from kubeform.transport.shell_base import ShellConnection, decoded_result


class LocalConnection(ShellConnection):
    """Runs commands and writes files on this machine, as the current user (or via sudo)."""

    def __init__(self, host: Host) -> None:
        super().__init__(host, getpass.getuser())

    def __repr__(self) -> str:
        return f"LocalConnection({self.name})"

    def connect(self) -> None:
        """Nothing to open; present so the pool treats every transport alike."""

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
        return decoded_result(proc.returncode, out, err)

    def _put_direct(self, content: bytes, path: str, mode: int | None) -> None:
        """Temp file in the same directory, chmod, rename."""
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
            raise self.write_error(path, str(exc.strerror)) from None
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
            raise self.write_error(path, str(exc.strerror)) from None

    def close(self) -> None:
        """Nothing to close."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command's process group (we started it with its own session) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
