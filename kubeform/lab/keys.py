"""SSH keys the lab makes itself: each host's ed25519 host key and the lab's client key.

Made by kubeform (not by the hosts at first boot) so their public halves can be put in
the lab's known_hosts before any host starts: host-key checking stays on.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    """OpenSSH texts of one key: the private key file and the public key line."""

    private: str
    public: str


def new_ed25519(comment: str) -> KeyPair:
    """A fresh ed25519 key in OpenSSH format (what sshd and paramiko both read)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    ).decode()
    return KeyPair(private=private, public=f"{public} {comment}\n")
