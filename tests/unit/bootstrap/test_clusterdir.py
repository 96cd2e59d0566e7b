"""Finding and creating the cluster directory the CLI reads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kubeform import pki
from kubeform.bootstrap.clusterdir import ENV_VAR, ClusterDir
from kubeform.errors import UserError


def test_create_then_load(tmp_path: Path) -> None:
    cd = ClusterDir.create(tmp_path / "c", "lab", ["https://10.0.0.1:2379"], ssh_tunnel="master1")
    again = ClusterDir.load(tmp_path / "c")
    assert again.name == "lab"
    assert again.endpoints == ["https://10.0.0.1:2379"]
    assert again.ssh_tunnel == "master1"
    assert stat.S_IMODE(cd.ca_key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cd.admin_key.stat().st_mode) == 0o600
    pki.load_cert(cd.admin_cert.read_bytes()).verify_directly_issued_by(
        pki.load_cert(cd.ca_cert.read_bytes())
    )


def test_create_is_idempotent_and_issue_reuses(tmp_path: Path) -> None:
    cd = ClusterDir.create(tmp_path / "c", "lab", ["https://10.0.0.1:2379"])
    ca = cd.ca_cert.read_bytes()
    cd2 = ClusterDir.create(tmp_path / "c", "lab", ["https://10.0.0.2:2379"])
    assert cd2.ca_cert.read_bytes() == ca
    first, _ = cd2.issue("etcd1", ["10.0.0.1"], client=True, server=True)
    second, _ = cd2.issue("etcd1", ["10.0.0.1"], client=True, server=True)
    assert first == second
    third, _ = cd2.issue("etcd1", ["10.0.0.9"], client=True, server=True)
    assert third != first


def test_find_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(UserError, match="kubeform up"):
        ClusterDir.find(None, cwd=tmp_path)
    ClusterDir.create(tmp_path / ".kubeform" / "a", "a", ["https://10.0.0.1:2379"])
    assert ClusterDir.find(None, cwd=tmp_path).name == "a"
    ClusterDir.create(tmp_path / ".kubeform" / "b", "b", ["https://10.0.0.1:2379"])
    with pytest.raises(UserError, match="several"):
        ClusterDir.find(None, cwd=tmp_path)
    assert ClusterDir.find("b", cwd=tmp_path).name == "b"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / ".kubeform" / "a"))
    assert ClusterDir.find(None, cwd=tmp_path).name == "a"
    assert ClusterDir.find(str(tmp_path / ".kubeform" / "b"), cwd=tmp_path).name == "b"


def test_bad_config_names_field(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    (d / "cluster.yml").write_text("name: x\nendpoints: nope\n")
    with pytest.raises(UserError) as err:
        ClusterDir.load(d)
    assert "endpoints" in str(err.value) and ":2" in str(err.value)


def test_secret_digest_key_per_cluster(tmp_path: Path) -> None:
    """Stable for one cluster (same CA key), different for another, never the raw CA key."""
    a = ClusterDir.create(tmp_path / "a", "a", ["https://10.0.0.1:2379"])
    b = ClusterDir.create(tmp_path / "b", "b", ["https://10.0.0.1:2379"])
    key = a.secret_digest_key()
    assert key == ClusterDir.load(tmp_path / "a").secret_digest_key()
    assert key != b.secret_digest_key() and len(key) == 32
    assert key not in a.ca_key.read_bytes()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_private_key_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    cd = ClusterDir.create(tmp_path / "c", "lab", ["https://10.0.0.1:2379"])
    cd.admin_key.chmod(mode)
    with pytest.raises(UserError) as info:
        ClusterDir.load(tmp_path / "c")
    assert f"mode {mode:04o}" in str(info.value) and f"chmod 600 {cd.admin_key}" in str(info.value)
    cd.admin_key.chmod(0o600)
    ClusterDir.load(tmp_path / "c")
