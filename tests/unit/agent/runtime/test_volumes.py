"""volumes: file sets, hostPath checks and mounts from data files; the atomic writer on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime import volumes
from kubeform.agent.runtime.driver import Mount

from .cases import DATA, case_files, load

MODES = {
    "dir": stat.S_IFDIR | 0o755,
    "file": stat.S_IFREG | 0o644,
    "socket": stat.S_IFSOCK | 0o777,
    "char": stat.S_IFCHR | 0o666,
    "block": stat.S_IFBLK | 0o660,
    "none": None,
}


@pytest.mark.parametrize("path", case_files("volumes"), ids=lambda p: p.stem)
def test_file_set(path: Path) -> None:
    case = load(path)
    pod = case["pod"]
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == case.get("volume", pod["spec"]["volumes"][0]["name"]))
    args = (pod, volume, case.get("configmaps") or {}, case.get("secrets") or {}, "10.244.1.5", "192.168.71.11")
    if "error" in case:
        with pytest.raises(volumes.VolumeError) as err:
            volumes.file_set(*args)
        assert str(err.value) == case["error"]
        return
    got = volumes.file_set(*args)
    want = {p: (e["data"].encode() if isinstance(e, dict) else str(e).encode(), e.get("mode", 0o644) if isinstance(e, dict) else 0o644) for p, e in case["expected"].items()}
    assert {p: (e.data, e.mode) for p, e in got.items()} == want
    assert volumes.on_tmpfs(volume) == bool(case.get("tmpfs", False))


def _host_path_cases() -> list[dict[str, Any]]:
    return list(load(DATA / "hostpath" / "checks.yaml")["cases"])


@pytest.mark.parametrize("case", _host_path_cases(), ids=lambda c: "{}-{}".format(c["type"] or "none", c["exists"]))
def test_host_path_check(case: dict[str, Any]) -> None:
    got = volumes.check_host_path("/srv/x", case["type"], MODES[case["exists"]])
    assert (got.create, got.error) == (case.get("create", ""), case.get("error", ""))


def test_container_mounts() -> None:
    pod = load(DATA / "hostpath" / "mounts.yaml")
    container = pod["spec"]["containers"][0]
    got = volumes.container_mounts("/var/lib/kubeform", pod, container)
    base = "/var/lib/kubeform/pods/uid-1/volumes/"
    assert got == [
        Mount(base + "scratch", "/scratch", False),
        Mount(base + "scratch/logs", "/var/log/app", True),
        Mount(base + "cfg", "/etc/app", True),
        Mount("/var/run/docker.sock", "/var/run/docker.sock", False),
    ]
    with pytest.raises(volumes.VolumeError):
        volumes.container_mounts("/s", pod, {"volumeMounts": [{"name": "nosuch", "mountPath": "/x"}]})
    with pytest.raises(volumes.VolumeError):
        volumes.container_mounts("/s", pod, {"volumeMounts": [{"name": "scratch", "mountPath": "/x", "subPath": "../etc"}]})


def test_atomic_writer_swaps_data_in_place(tmp_path: Path) -> None:
    target = str(tmp_path / "cfg")
    first = {"a.conf": volumes.FileEntry(b"one", 0o644), "sub/b": volumes.FileEntry(b"two", 0o600)}
    assert volumes.write_atomic(target, first, "2024_01_01_00_00_00.1")
    assert (tmp_path / "cfg" / "a.conf").read_bytes() == b"one"
    assert os.readlink(tmp_path / "cfg" / "a.conf") == "..data/a.conf"
    assert (tmp_path / "cfg" / "sub" / "b").read_bytes() == b"two"
    assert stat.S_IMODE(os.stat(tmp_path / "cfg" / "sub" / "b").st_mode) == 0o600
    assert not volumes.write_atomic(target, first, "2024_01_01_00_00_01.1")  # unchanged: nothing written
    second = {"a.conf": volumes.FileEntry(b"uno", 0o644)}
    assert volumes.write_atomic(target, second, "2024_01_01_00_00_02.1")
    assert (tmp_path / "cfg" / "a.conf").read_bytes() == b"uno"
    assert not os.path.lexists(tmp_path / "cfg" / "sub")
    hidden = sorted(n for n in os.listdir(target) if n.startswith(".."))
    assert hidden == ["..2024_01_01_00_00_02.1", "..data"]


def test_setup_secret_mounts_tmpfs_and_teardown_unmounts(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    pod = {
        "metadata": {"uid": "u1", "name": "p", "namespace": "default"},
        "spec": {"volumes": [{"name": "creds", "secret": {"secretName": "s", "defaultMode": 0o400}}]},
    }
    secrets = {"s": {"data": {"token": "dG9r"}}}
    changed = volumes.setup_volume(str(tmp_path), pod, pod["spec"]["volumes"][0], {}, secrets, "1", run=calls.append)
    assert changed
    path = tmp_path / "pods" / "u1" / "volumes" / "creds"
    assert calls == [["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(path)]]
    assert (path / "token").read_bytes() == b"tok"
    assert stat.S_IMODE(os.stat(path / "token").st_mode) == 0o400
    volumes.teardown(str(tmp_path), "u1", run=calls.append)
    assert not (tmp_path / "pods" / "u1").exists()


def test_setup_host_path_directory_or_create(tmp_path: Path) -> None:
    where = tmp_path / "made"
    pod = {"metadata": {"uid": "u1"}, "spec": {}}
    volume = {"name": "h", "hostPath": {"path": str(where), "type": "DirectoryOrCreate"}}
    volumes.setup_volume(str(tmp_path / "state"), pod, volume, {}, {}, "1")
    assert where.is_dir()
    bad = {"name": "h", "hostPath": {"path": str(where), "type": "File"}}
    with pytest.raises(volumes.VolumeError, match="is not a file"):
        volumes.setup_volume(str(tmp_path / "state"), pod, bad, {}, {}, "1")


def test_tmpfs_size_from_size_limit() -> None:
    assert volumes.tmpfs_options({"emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}) == "mode=0777,size=67108864"
