"""Private key files: who may read them. Light on purpose (no cryptography import): every
command that opens the cluster directory or an SSH key checks its keys first."""

from __future__ import annotations

import os
from pathlib import Path


def private_key_problem(path: str | Path) -> str | None:
    """Why a private key file must not be used: readable or writable by others.

    OpenSSH refuses such a key ("UNPROTECTED PRIVATE KEY FILE!"); so does kubeform, for
    SSH keys and for the cluster directory's TLS keys, with the command that fixes it.
    """
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None  # a missing file is reported where it is opened
    if mode & 0o077:
        return (
            f"private key {path} is accessible by others (mode {mode:04o}); "
            f"it must be readable by you only: chmod 600 {path}"
        )
    return None
