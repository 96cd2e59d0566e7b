"""Commands on lab hosts over SSH, as the inventory would connect: lab key, verified host key."""

from __future__ import annotations

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
