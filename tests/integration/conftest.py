"""Shared fixtures for integration tests: a real sshd on loopback addresses.

One server for the whole session (starting sshd costs ~100 ms, keys a few ms); tests
that need a private server (e.g. a changed host key) call ``start_sshd`` themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.sshd_server import SSHD, SSHDServer, start_sshd


@pytest.fixture(scope="session")
def sshd_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHDServer]:
    """A running sshd on 127.0.0.2-4 (same port); stopped at session end, also on failure.

    Sessions log in as the current user (root in CI) on this machine, so tests must
    confine writes to a tmp dir (see ``SSHDServer.write_inventory(root=...)``).
    """
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} not installed (apt-get install openssh-server)")
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        server.stop()
