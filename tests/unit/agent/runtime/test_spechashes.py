"""Container spec hashes kept per pod on disk: a restarted agent (a new SpecHashes) still
knows which spec each live container was started from."""

from __future__ import annotations

from pathlib import Path

from kubeform.agent.runtime.spechashes import SpecHashes


def test_hashes_survive_a_restart_and_keep_only_live_containers(tmp_path: Path) -> None:
    hashes = SpecHashes(str(tmp_path))
    assert hashes.of("u1") == {}
    hashes.remember("u1", "c1", "h1", live=[])
    hashes.remember("u1", "c2", "h2", live=["c1"])
    assert hashes.of("u1") == {"c1": "h1", "c2": "h2"}
    hashes.remember("u1", "c3", "h3", live=["c2"])  # c1 is gone
    assert SpecHashes(str(tmp_path)).of("u1") == {"c2": "h2", "c3": "h3"}


def test_forget_keeps_the_file_and_drop_removes_it(tmp_path: Path) -> None:
    hashes = SpecHashes(str(tmp_path))
    hashes.remember("u1", "c1", "h1", live=[])
    hashes.forget("u1")
    assert hashes.of("u1") == {"c1": "h1"}  # read back from disk
    hashes.drop("u1")
    assert not Path(hashes.path("u1")).exists()
    assert SpecHashes(str(tmp_path)).of("u1") == {}


def test_an_unreadable_table_is_empty(tmp_path: Path) -> None:
    hashes = SpecHashes(str(tmp_path))
    path = Path(hashes.path("u1"))
    path.parent.mkdir(parents=True)
    path.write_text("not json")
    assert hashes.of("u1") == {}
