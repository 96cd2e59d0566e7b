"""Commands on lab hosts over SSH, as the inventory would connect: lab key, verified host key;
and the one polling loop every lab test waits with."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import paramiko

from kubeform.lab.state import LabState


def ssh(st: LabState, host: str, command: str, *, check: bool = True) -> str:
    """Run a command on a lab host over SSH with the lab's key and verified host key."""
    client = paramiko.SSHClient()
    client.load_host_keys(f"{st.directory}/known_hosts")
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            st.host(host).address,
            username="root",
            key_filename=f"{st.directory}/id_ed25519",
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
        _, out, err = client.exec_command(command, timeout=60)
        text = out.read().decode()
        rc = out.channel.recv_exit_status()
        if check and rc != 0:
            raise AssertionError(f"{host}: {command!r} exited {rc}: {err.read().decode()}")
        return text
    finally:
        client.close()


def wait_for(
    what: str,
    check: Callable[[], Any],
    timeout: float = 60.0,
    every: float = 0.5,
    diagnose: Callable[[], str] | None = None,
) -> Any:
    """Poll ``check`` until it returns something truthy (returned), or fail after
    ``timeout`` seconds saying what was awaited, the last value and ``diagnose()``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    extra = f"\n{diagnose()}" if diagnose is not None else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r}){extra}")
