"""One fake ``Connection`` for unit tests: records every command, answers through a hook.

Why shared: engine tests (answers from the local /bin/sh) and step tests (scripted
answers, e.g. reboot's boot ids) need the same protocol surface and the same record of
what was sent; only how a command is answered differs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kubeform.transport.base import CommandResult


class RecordingConnection:
    """Records commands (and put paths); ``answer`` runs the command with the local /bin/sh.

    ``commands`` may be a list shared with something that outlives the connection (a
    fake host whose connections come and go across a reboot).
    """

    def __init__(self, name: str, commands: list[str] | None = None) -> None:
        self.name = name
        self.commands: list[str] = [] if commands is None else commands
        self.puts: list[str] = []

    def run(
        self,
        command: str,
        *,
        become: bool = False,
        become_user: str = "root",
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        self.commands.append(command)
        return self.answer(command, stdin)

    def answer(self, command: str, stdin: bytes | None) -> CommandResult:
        """How the fake host answers; override for scripted hosts."""
        proc = subprocess.run(
            ["/bin/sh", "-c", command], input=stdin or b"", capture_output=True, check=False
        )
        return CommandResult(proc.returncode, proc.stdout.decode(), proc.stderr.decode())

    def put(
        self, content: bytes, path: str, *, mode: int | None = None, become: bool = False
    ) -> None:
        self.puts.append(path)
        p = Path(path)
        p.write_bytes(content)
        if mode is not None:
            p.chmod(mode)

    def close(self) -> None:
        pass
