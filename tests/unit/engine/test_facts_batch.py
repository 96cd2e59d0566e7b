"""One round trip for many facts: the batch script and its parser, run by a real /bin/sh."""

from __future__ import annotations

import subprocess

import pytest

from kubeform.engine.facts_batch import (
    MAX_SCRIPT,
    BatchError,
    batch_script,
    new_nonce,
    parse_batch,
    split_batches,
)
from kubeform.modules.base import Fact


def _fact(key: str, command: str) -> Fact:
    return Fact(key=key, command=command, parse=lambda out, rc: (out, rc))


def test_outputs_and_exit_codes_survive_exactly() -> None:
    facts = [
        _fact("a", "printf 'no newline'"),
        _fact("b", "printf 'two\\nlines\\n'"),
        _fact("c", "exit 3"),
        _fact("d", "echo to-stderr >&2; printf ''"),
        _fact("e", "printf '@@KF0B0@@\\n'; exit 1"),
        _fact("f", "cat"),  # stdin is /dev/null: must not hang
        _fact("g", "if then fi"),  # a syntax error breaks only its own section
    ]
    nonce = new_nonce()
    proc = subprocess.run(["/bin/sh", "-c", batch_script(facts, nonce)], capture_output=True, text=True, check=False, timeout=10)
    got = parse_batch(proc.stdout, len(facts), nonce)
    assert got[:6] == [("no newline", 0), ("two\nlines\n", 0), ("", 3), ("", 0), ("@@KF0B0@@\n", 1), ("", 0)]
    assert got[6][1] != 0


def test_missing_section_is_an_error() -> None:
    with pytest.raises(BatchError):
        parse_batch("", 1, "abc")


def test_a_big_batch_is_split_within_sshds_argument_limit() -> None:
    """sshd runs the script as one argument of bash -c: over 128 KiB it fails with
    "Argument list too long" (a docker host with ~150 files to check reached it)."""
    nonce = new_nonce()
    facts = [_fact(f"f{i}", f"stat -c '%s %a' /opt/kubeform/kubeform/agent/runtime/file{i:04d}.py " + "x" * 700) for i in range(400)]
    batches = split_batches(facts, nonce)
    assert [f for b in batches for f in b] == facts  # every fact, in order
    assert len(batches) > 1 and all(len(batch_script(b, nonce)) <= MAX_SCRIPT for b in batches)
    assert split_batches(facts[:3], nonce) == [facts[:3]]
    huge = _fact("huge", "x" * (MAX_SCRIPT + 1))
    assert split_batches([facts[0], huge, facts[1]], nonce) == [[facts[0]], [huge], [facts[1]]]
