"""Host-key verification against OpenSSH known_hosts files, accept-new on request.

Why our own policy: paramiko's AutoAddPolicy trusts anything silently and its
RejectPolicy gives no hint how to proceed. The decision here is a pure function
(``decide``) of the known keys, the host name and the offered key, tested with data
cases; ``VerifyingPolicy`` is the thin paramiko adapter that loads the file, applies the
decision and, for ``--trust-new-hosts``, appends the new key in OpenSSH format.
"""

from __future__ import annotations

import enum
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import paramiko

from kubeform.transport.base import HostKeyRejected
from kubeform.transport.known_hosts import KnownHosts, fingerprint, load


class Verdict(enum.Enum):
    """What to do with the key a server offered."""

    KNOWN = "known"  # matches a recorded key: go on
    RECORD = "record"  # host never seen and new hosts are trusted: record, go on
    UNKNOWN = "unknown"  # host never seen: refuse
    CHANGED = "changed"  # host known with another key: always refuse
    REVOKED = "revoked"  # the key is marked @revoked: always refuse


@dataclass(frozen=True)
class Decision:
    """A verdict plus the fingerprints a message needs."""

    verdict: Verdict
    offered: str
    recorded: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.verdict in (Verdict.KNOWN, Verdict.RECORD)


def host_key_name(address: str, port: int) -> str:
    """The known_hosts spelling OpenSSH uses: ``host`` on port 22, else ``[host]:port``."""
    return address if port == 22 else f"[{address}]:{port}"


def decide(known: KnownHosts, name: str, key: paramiko.PKey, trust_new: bool) -> Decision:
    """Compare the offered ``key`` for ``name`` with the recorded ones.

    Any recorded key may match (a host in the middle of a key rotation has two of one
    type). A host recorded only with keys of other types counts as changed: refusing is
    the safe reading, and the message shows what is recorded. A key marked ``@revoked``
    is refused whatever else is recorded.
    """
    blob = key.asbytes()
    offered = key.fingerprint
    if known.revoked(name, key.get_name(), blob):
        return Decision(Verdict.REVOKED, offered)
    entries = known.keys_for(name)
    if not entries:
        return Decision(Verdict.RECORD if trust_new else Verdict.UNKNOWN, offered)
    recorded = tuple(dict.fromkeys(fingerprint(e.blob) for e in entries))
    if any(e.key_type == key.get_name() and e.blob == blob for e in entries):
        return Decision(Verdict.KNOWN, offered, recorded)
    return Decision(Verdict.CHANGED, offered, recorded)


def _keyscan(name: str) -> str:
    """The ssh-keyscan command for a known_hosts name (``host`` or ``[host]:port``)."""
    if name.startswith("[") and "]:" in name:
        host, port = name[1:].rsplit("]:", 1)
        return f"ssh-keyscan -p {port} {host}"
    return f"ssh-keyscan {name}"


def rejection_message(decision: Decision, name: str, known_hosts: str) -> str:
    """One clear paragraph: what happened, which fingerprints, how to proceed."""
    if decision.verdict is Verdict.UNKNOWN:
        return (
            f"host key for {name} is not known ({decision.offered}) in {known_hosts}; "
            "check the fingerprint, then run again with --trust-new-hosts to record it "
            f"(or add it with: {_keyscan(name)} >> {known_hosts})"
        )
    if decision.verdict is Verdict.CHANGED:
        return (
            f"HOST KEY FOR {name} HAS CHANGED: recorded {', '.join(decision.recorded)}, "
            f"offered {decision.offered}. This may be an attack or a reinstalled host; "
            f"if the change is expected, remove the old entry (ssh-keygen -R '{name}' "
            f"-f {known_hosts}) and trust the new key"
        )
    if decision.verdict is Verdict.REVOKED:
        return (
            f"host key for {name} ({decision.offered}) is marked @revoked in {known_hosts}; "
            "refusing to connect"
        )
    raise ValueError(f"not a rejection: {decision.verdict}")


def known_hosts_line(name: str, key: paramiko.PKey) -> str:
    """An OpenSSH known_hosts line (plain host name, not hashed)."""
    return f"{name} {key.get_name()} {key.get_base64()}\n"


def load_known_hosts(path: str | Path) -> KnownHosts:
    """Read a known_hosts file as OpenSSH does (see known_hosts.py); missing is empty."""
    return load(path)


_record_lock = threading.Lock()


def record_host_key(path: str | Path, name: str, key: paramiko.PKey) -> None:
    """Append ``key`` for ``name`` unless already there (threads and processes serialised)."""
    path = Path(path)
    with _record_lock:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True)
        with path.open("a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                # Another process may have recorded it meanwhile.
                if decide(load_known_hosts(path), name, key, False).verdict is Verdict.KNOWN:
                    return
                fh.seek(0, os.SEEK_END)
                if fh.tell() > 0:
                    fh.seek(fh.tell() - 1)
                    last = fh.read(1)
                    if last != "\n":
                        fh.write("\n")
                fh.write(known_hosts_line(name, key))
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def default_known_hosts() -> str:
    """The user's OpenSSH known_hosts."""
    return os.path.expanduser("~/.ssh/known_hosts")


def preferred_key_types(known: KnownHosts, name: str, available: list[str]) -> list[str]:
    """Offer the key types we hold for ``name`` first, as OpenSSH does.

    Without this a server with several host keys may present a type we have no record
    of, which would look like a changed key.
    """
    entries = known.keys_for(name)
    if not entries:
        return available
    wanted: list[str] = []
    for key_type in dict.fromkeys(e.key_type for e in entries):
        if key_type == "ssh-rsa":
            wanted += ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
        else:
            wanted.append(key_type)
    first = [t for t in wanted if t in available]
    return first + [t for t in available if t not in first]


class VerifyingPolicy(paramiko.MissingHostKeyPolicy):
    """paramiko adapter: called for every connection (the client holds no keys itself)."""

    def __init__(self, known_hosts: str | Path, trust_new: bool) -> None:
        self.known_hosts = str(known_hosts)
        self.trust_new = trust_new

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        decision = decide(load_known_hosts(self.known_hosts), hostname, key, self.trust_new)
        if decision.verdict is Verdict.RECORD:
            record_host_key(self.known_hosts, hostname, key)
        elif not decision.accepted:
            raise HostKeyRejected(rejection_message(decision, hostname, self.known_hosts))
