"""Host-key decisions and known_hosts recording (kubeform.transport.hostkeys)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import paramiko
import pytest
import yaml

from kubeform.transport.base import HostKeyRejected
from kubeform.transport.hostkeys import (
    Decision,
    Verdict,
    VerifyingPolicy,
    decide,
    host_key_name,
    load_known_hosts,
    preferred_key_types,
    record_host_key,
    rejection_message,
)

DATA = yaml.safe_load((Path(__file__).parent.parent.parent / "data/transport/hostkeys.yaml").read_text())
KEYS: dict[str, str] = DATA["keys"]
CASES: list[dict[str, Any]] = DATA["cases"]


def pkey(label: str) -> paramiko.PKey:
    key_type, b64 = KEYS[label].split()
    return paramiko.PKey.from_type_string(key_type, base64.b64decode(b64))


def known_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "known_hosts"
    path.write_text("".join(line.format(**KEYS) + "\n" for line in lines))
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_decide(case: dict[str, Any], tmp_path: Path) -> None:
    known = load_known_hosts(known_file(tmp_path, case["known_hosts"]))
    decision = decide(known, case["host"], pkey(case["offered"]), case["trust_new"])
    assert decision.verdict.value == case["verdict"]
    assert decision.offered == pkey(case["offered"]).fingerprint


def test_missing_file_is_empty(tmp_path: Path) -> None:
    known = load_known_hosts(tmp_path / "nope")
    assert decide(known, "h", pkey("A"), False).verdict is Verdict.UNKNOWN


@pytest.mark.parametrize(("port", "name"), [(22, "10.0.0.5"), (2222, "[10.0.0.5]:2222")])
def test_host_key_name(port: int, name: str) -> None:
    assert host_key_name("10.0.0.5", port) == name


def test_unknown_message_says_how_to_trust() -> None:
    msg = rejection_message(Decision(Verdict.UNKNOWN, "SHA256:new"), "[h]:2", "/k")
    assert "--trust-new-hosts" in msg and "SHA256:new" in msg and "/k" in msg


def test_changed_message_shows_both_fingerprints() -> None:
    decision = Decision(Verdict.CHANGED, "SHA256:new", ("SHA256:old",))
    msg = rejection_message(decision, "h", "/k")
    assert "CHANGED" in msg and "SHA256:old" in msg and "SHA256:new" in msg


def test_record_appends_openssh_line_once(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "known_hosts"
    record_host_key(path, "[h]:2222", pkey("A"))
    record_host_key(path, "[h]:2222", pkey("A"))
    assert path.read_text() == f"[h]:2222 {KEYS['A']}\n"
    assert decide(load_known_hosts(path), "[h]:2222", pkey("A"), False).verdict is Verdict.KNOWN


def test_record_keeps_a_file_without_final_newline(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_text(f"other {KEYS['B']}")
    record_host_key(path, "h", pkey("A"))
    assert path.read_text().splitlines() == [f"other {KEYS['B']}", f"h {KEYS['A']}"]


def test_policy_records_only_when_trusting(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    client = paramiko.SSHClient()
    with pytest.raises(HostKeyRejected, match="--trust-new-hosts"):
        VerifyingPolicy(path, trust_new=False).missing_host_key(client, "h", pkey("A"))
    assert not path.exists()
    VerifyingPolicy(path, trust_new=True).missing_host_key(client, "h", pkey("A"))
    VerifyingPolicy(path, trust_new=False).missing_host_key(client, "h", pkey("A"))
    with pytest.raises(HostKeyRejected, match="CHANGED"):
        VerifyingPolicy(path, trust_new=True).missing_host_key(client, "h", pkey("B"))


def test_preferred_key_types_puts_recorded_first(tmp_path: Path) -> None:
    known = load_known_hosts(known_file(tmp_path, ["h {E}"]))
    available = ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512"]
    assert preferred_key_types(known, "h", available) == [
        "ecdsa-sha2-nistp256",
        "ssh-ed25519",
        "rsa-sha2-512",
    ]
    assert preferred_key_types(known, "other", available) == available


@pytest.mark.parametrize(("name", "command"), [("[10.0.0.5]:2222", "ssh-keyscan -p 2222 10.0.0.5"), ("h", "ssh-keyscan h")])
def test_unknown_message_gives_a_runnable_keyscan(name: str, command: str) -> None:
    msg = rejection_message(Decision(Verdict.UNKNOWN, "SHA256:new"), name, "/k")
    assert f"(or add it with: {command} >> /k)" in msg


def test_non_utf8_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "known_hosts"
    path.write_bytes(b"caf\xe9 ssh-ed25519 AAAA\n" + ("10.0.0.5 " + KEYS["A"] + "\n").encode())
    assert decide(load_known_hosts(path), "10.0.0.5", pkey("A"), False).verdict is Verdict.KNOWN


def test_revoked_message() -> None:
    msg = rejection_message(Decision(Verdict.REVOKED, "SHA256:x"), "10.0.0.5", "/k")
    assert "@revoked" in msg and "10.0.0.5" in msg
