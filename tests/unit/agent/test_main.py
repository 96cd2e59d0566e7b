"""The agent's stop: revoke the heartbeat only when the host itself is going down."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from kubeform.agent import main


class _Done:
    def __init__(self, out: bytes) -> None:
        self.stdout = out


@pytest.mark.parametrize(
    ("systemd", "answer", "want"),
    [
        (False, b"", True),  # no systemd: assume the node goes away (tests, containers)
        (True, b"stopping\n", True),  # shutdown or reboot
        (True, b"running\n", False),  # `systemctl restart kubeform-agent` (an upgrade by up)
        (True, b"degraded\n", False),
        (True, None, True),  # systemctl failed: cannot tell
    ],
)
def test_host_stopping(monkeypatch: pytest.MonkeyPatch, systemd: bool, answer: bytes | None, want: bool) -> None:
    monkeypatch.setattr(main.os.path, "isdir", lambda path: systemd)

    def run(argv: list[str], **kw: Any) -> _Done:
        if answer is None:
            raise subprocess.TimeoutExpired(argv, 3)
        return _Done(answer)

    monkeypatch.setattr(main.subprocess, "run", run)
    assert main.host_stopping() is want
