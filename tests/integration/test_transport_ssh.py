"""SSHConnection against a real sshd on loopback (see tests/sshd_server.py)."""

from __future__ import annotations

import subprocess

import pytest

from tests.sshd_server import SSHDServer

pytestmark = pytest.mark.integration


def test_fixture_serves_every_address(sshd_hosts: SSHDServer) -> None:
    for addr in sshd_hosts.addresses:
        result = subprocess.run(
            [
                "ssh",
                "-i",
                str(sshd_hosts.client_key),
                "-o",
                f"UserKnownHostsFile={sshd_hosts.known_hosts}",
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-p",
                str(sshd_hosts.port),
                f"{sshd_hosts.user}@{addr}",
                "echo ok",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.stdout == "ok\n", result.stderr
