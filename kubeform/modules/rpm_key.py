"""rpm_key: a GPG key in the rpm database, or not (Ansible's ``rpm_key``).

The key is a URL, a file on the host, or (for ``absent``, or when already imported) a key
id. One probe lists the imported keys (``gpg-pubkey`` packages, named after the key id's
last 8 hex digits) and, for a URL or file, reads the key itself with gpg on the host to
learn its id and fingerprint — so ``fingerprint`` is checked before anything is imported.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._el import sections
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

_KEYID = re.compile(r"^(0x)?([0-9a-fA-F]{8}|[0-9a-fA-F]{16})$")


def is_url(key: str) -> bool:
    return key.startswith(("http://", "https://", "ftp://", "file://"))


def key_fact(key: str, validate_certs: bool) -> Fact:
    """The imported key ids and, unless ``key`` is an id, the key's own id and fingerprint."""
    read = ""
    if not _KEYID.match(key):
        insecure = "" if validate_certs else "-k "
        fetch = f"curl -fsSL {insecure}{shlex.quote(key)} -o \"$f\"" if is_url(key) else f"cat {shlex.quote(key)} > \"$f\""
        read = (
            "echo '== key'; f=$(mktemp); "
            f"if {fetch}; then gpg --show-keys --with-colons --with-fingerprint \"$f\" 2>/dev/null || "
            "gpg --no-tty --batch --with-colons --fixed-list-mode --with-fingerprint \"$f\" 2>/dev/null; "
            "else echo unreadable; fi; rm -f \"$f\"; "
        )
    cmd = (
        "( command -v rpm >/dev/null 2>&1 || { echo '== norpm'; exit 0; }; "
        "echo '== imported'; rpm -q gpg-pubkey --qf '%{VERSION}\\n' 2>/dev/null | grep -v 'not installed'; "
        f"{read}true )"
    )
    return Fact(key=f"rpm_key:{key}", command=cmd, parse=parse_keys)


def parse_keys(out: str, rc: int) -> dict[str, Any]:
    parts = sections(out)
    info: dict[str, Any] = {
        "rpm": "norpm" not in parts,
        "imported": {line.strip().lower() for line in parts.get("imported", "").splitlines() if line.strip()},
    }
    if "key" in parts:
        body = parts["key"]
        info["unreadable"] = body.strip() == "unreadable"
        keyids = [ln.split(":")[4].lower() for ln in body.splitlines() if ln.startswith("pub:") and len(ln.split(":")) > 4]
        fprs = [ln.split(":")[9].upper() for ln in body.splitlines() if ln.startswith("fpr:") and len(ln.split(":")) > 9]
        info["keyid"] = keyids[0] if keyids else ""
        info["fingerprints"] = fprs
    return info


class RpmKey(Module):
    """Ansible's rpm_key: key, state, fingerprint, validate_certs."""

    name: ClassVar[str] = "rpm_key"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "key": {"type": "string", "minLength": 1},
            "state": {"enum": ["present", "absent"]},
            "fingerprint": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "validate_certs": {"type": "boolean"},
        },
        "required": ["key"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [key_fact(str(args["key"]), bool(args.get("validate_certs", True)))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        key = str(args["key"])
        info = facts[f"rpm_key:{key}"]
        if not info["rpm"]:
            raise ModuleArgError("rpm is not installed on the host", field="key")
        m = _KEYID.match(key)
        if m:
            keyid = m.group(2).lower()
        else:
            if info.get("unreadable"):
                raise ModuleArgError(f"cannot read the key {key}", field="key")
            if not info.get("keyid"):
                raise ModuleArgError(f"{key} is not a valid GPG public key (gpg found none)", field="key")
            keyid = info["keyid"]
            wanted = args.get("fingerprint")
            if wanted:
                want = [wanted] if isinstance(wanted, str) else list(wanted)
                have = set(info["fingerprints"])
                missing = [w for w in want if w.replace(" ", "").upper() not in have]
                if missing:
                    raise ModuleArgError(f"the key's fingerprint ({', '.join(sorted(have))}) is not {missing[0]}", field="fingerprint")
        short = keyid[-8:]
        present = short in info["imported"]
        if args.get("state", "present") == "absent":
            if not present:
                return []
            return [Change("remove", f"remove key {short}", (Run(f"rpm -e --allmatches gpg-pubkey-{short}"),), Diff("rpm key", short, "(absent)"))]
        if present:
            return []
        if m:
            raise ModuleArgError(f"key id {key} is not imported; give the key's URL or file to import it", field="key")
        cmd = f"rpm --import {shlex.quote(key)}"
        if is_url(key):  # fetched as the probe fetched it (validate_certs), then imported
            insecure = "" if args.get("validate_certs", True) else "-k "
            cmd = f'f=$(mktemp); curl -fsSL {insecure}{shlex.quote(key)} -o "$f" && rpm --import "$f"; rc=$?; rm -f "$f"; exit $rc'
        return [Change("add", f"import key {short} from {key}", (Run(cmd),), Diff("rpm key", "(absent)", short))]
