"""One round trip for many facts: the batch script and its parser, run by a real /bin/sh."""

from __future__ import annotations

import subprocess

import pytest

from kubeform.engine.facts_batch import BatchError, batch_script, new_nonce, parse_batch
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
