"""An OpenSSH known_hosts file read as OpenSSH reads it.

paramiko's own reader aborts on lines it does not understand (``@cert-authority``,
``@revoked``, a corrupt key, a byte that is not UTF-8) and keeps only one key per type
and host, so a file that ssh uses every day ended a run with an internal error, and a
host in the middle of a key rotation (two ed25519 keys recorded) was refused. Here, as
in OpenSSH's hostfile.c:

- blank lines, comments, lines with too few fields or an undecodable key are skipped;
- ``@revoked`` keys are honoured: a host offering one is refused;
- ``@cert-authority`` lines are skipped (kubeform does not do host certificates; a host
  known only through a CA is therefore unknown, never wrongly trusted);
- host patterns: comma-separated names, ``*`` and ``?`` wildcards, ``!negation``,
  ``[host]:port``, and hashed names (``|1|salt|hmac``);
- every key recorded for a host counts, several of one type included.

Pure parsing and matching; ``load`` is the only function that reads a file.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One usable known_hosts line."""

    marker: str  # "" (a plain key), "revoked"
    patterns: tuple[str, ...]
    key_type: str
    blob: bytes

    def matches(self, name: str) -> bool:
        return host_matches(self.patterns, name)


def fingerprint(blob: bytes) -> str:
    """OpenSSH's (and paramiko's) ``SHA256:...`` fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    """OpenSSH's host pattern: ``*`` and ``?`` are wildcards, everything else literal
    (``[host]:port`` included), case-insensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.IGNORECASE)


def _hashed_matches(pattern: str, name: str) -> bool:
    parts = pattern.split("|")
    if len(parts) != 4 or parts[1] != "1":
        return False
    try:
        salt, digest = base64.b64decode(parts[2]), base64.b64decode(parts[3])
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)


def host_matches(patterns: tuple[str, ...], name: str) -> bool:
    """Whether ``name`` matches a line's host patterns (a negation wins over any match)."""
    found = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        p = pattern[1:] if negated else pattern
        hit = _hashed_matches(p, name) if p.startswith("|") else _wildcard(p).fullmatch(name) is not None
        if hit and negated:
            return False
        found = found or hit
    return found


def _blob_type(blob: bytes) -> str | None:
    """The key type written inside a public key blob (None when the blob is corrupt)."""
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    if length > len(blob) - 4 or length > 64:
        return None
    try:
        return blob[4 : 4 + length].decode("ascii")
    except UnicodeDecodeError:
        return None


def parse_line(line: str) -> Entry | None:
    """The entry a line holds, or None for a line OpenSSH would skip too."""
    fields = line.split()
    if not fields or fields[0].startswith("#"):
        return None
    marker = ""
    if fields[0].startswith("@"):
        if fields[0] == "@revoked":
            marker = "revoked"
        else:  # @cert-authority (not supported) or an unknown marker
            return None
        fields = fields[1:]
    if len(fields) < 3:
        return None
    hosts, key_type, b64 = fields[0], fields[1], fields[2]
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if _blob_type(blob) != key_type:
        return None
    return Entry(marker, tuple(h for h in hosts.split(",") if h), key_type, blob)


@dataclass(frozen=True)
class KnownHosts:
    """The usable entries of a known_hosts file."""

    entries: tuple[Entry, ...] = ()

    @classmethod
    def parse(cls, data: bytes) -> KnownHosts:
        out: list[Entry] = []
        for raw in data.splitlines():
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue  # a corrupt line costs that line, not the run
            entry = parse_line(line)
            if entry is not None:
                out.append(entry)
        return cls(tuple(out))

    def keys_for(self, name: str) -> list[Entry]:
        """The keys recorded for ``name`` (revoked ones excluded), in file order."""
        return [e for e in self.entries if not e.marker and e.matches(name)]

    def revoked(self, name: str, key_type: str, blob: bytes) -> bool:
        return any(
            e.marker == "revoked" and e.key_type == key_type and e.blob == blob and e.matches(name)
            for e in self.entries
        )


def load(path: str | Path) -> KnownHosts:
    """Read a known_hosts file; a missing or unreadable one is simply empty (as for ssh)."""
    if not os.path.isfile(path):
        return KnownHosts()
    try:
        return KnownHosts.parse(Path(path).read_bytes())
    except OSError:
        return KnownHosts()
