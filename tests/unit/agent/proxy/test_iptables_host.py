"""The iptables edge's restore (IptablesHost.restore): the input streamed in pieces into one
iptables-restore, started only when there is something to write, killed before a COMMIT it
must not read when a piece fails to come, and its refusal reported with its own words.
A fake iptables (a shell script next to a fake iptables-restore) stands in for the real one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeform.agent.proxy.iptables_host import Background, IptablesError, IptablesHost


def fake(tmp_path: Path, restore: str) -> IptablesHost:
    """An IptablesHost whose binary is tmp/fake: `fake --version` says 1.4.21 (no -w on
    restore), `fake-restore` runs the shell text restore with OUT set to tmp/out."""
    (tmp_path / "fake").write_text("#!/bin/sh\necho 'iptables v1.4.21'\n")
    (tmp_path / "fake-restore").write_text(f"#!/bin/sh\nOUT={tmp_path}/out\n{restore}\n")
    for name in ("fake", "fake-restore"):
        os.chmod(tmp_path / name, 0o755)
    return IptablesHost(binary=str(tmp_path / "fake"))


def test_pieces_reach_one_restore_in_order(tmp_path: Path) -> None:
    host = fake(tmp_path, 'echo "$@" > $OUT.argv; cat > $OUT')
    pieces = ["*nat\n:KUBE-SVC-A - [0:0]\n", "", "-A KUBE-SVC-A -j RETURN\n" * 20000, "COMMIT\n"]
    host.restore(iter(pieces))
    assert (tmp_path / "out").read_text() == "".join(pieces)
    assert (tmp_path / "out.argv").read_text() == "--noflush\n"


def test_nothing_to_write_starts_nothing(tmp_path: Path) -> None:
    host = fake(tmp_path, "touch $OUT")
    host.restore("")
    host.restore(iter(["", ""]))
    assert not (tmp_path / "out").exists()


def test_a_piece_that_fails_kills_restore_before_commit(tmp_path: Path) -> None:
    host = fake(tmp_path, "cat > $OUT")

    def pieces() -> Iterator[str]:
        yield "*nat\n:KUBE-SVC-A - [0:0]\n"
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError, match="render failed"):
        host.restore(pieces())
    out = tmp_path / "out"  # killed maybe before its shell opened it
    assert not out.exists() or "COMMIT" not in out.read_text()


def test_refusal_is_reported_with_its_words(tmp_path: Path) -> None:
    """iptables-restore that stops reading at a bad line: the pipe closes under the writer,
    the error is its exit status and stderr, not a BrokenPipeError."""
    host = fake(tmp_path, "head -c 10 >/dev/null; echo 'iptables-restore: line 2 failed' >&2; exit 1")
    with pytest.raises(IptablesError, match="exit 1: iptables-restore: line 2 failed"):
        host.restore(iter(["*nat\n", "-A KUBE-SVC-A -j NOPE\n" * 200000, "COMMIT\n"]))


def test_background_returns_value_or_raises() -> None:
    assert Background(lambda: 42).result() == 42

    def fail() -> None:
        raise IptablesError("save failed")

    with pytest.raises(IptablesError, match="save failed"):
        Background(fail).result()
