"""`kubeform image make|push|ls` against a real registry (Debian's docker-registry, the
distribution the cluster runs) on loopback, TLS with a certificate from a cluster CA."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.cli.main import main
from kubeform.images import busybox
from kubeform.images.connect import cluster_registry

pytestmark = pytest.mark.integration

REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"

CONFIG = """\
version: 0.1
log: {{level: warn}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http:
  addr: 127.0.0.1:{port}
  tls: {{certificate: {cert}, key: {key}}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterDir]:
    """A cluster directory whose cluster.yml names a registry running on loopback."""
    if not Path(REGISTRY).exists():
        pytest.skip("docker-registry not installed (apt-get install docker-registry)")
    tmp = tmp_path_factory.mktemp("registry")
    port = _free_port()
    cd = ClusterDir.create(tmp / "cluster", "imgtest", ["https://127.0.0.1:1"],
                           extra={"registry": f"127.0.0.1:{port}"})
    cd.issue("registry-master1", ["127.0.0.1", "localhost"], client=False, server=True)
    cert, key = cd.cert_paths("registry-master1")
    config = tmp / "config.yml"
    config.write_text(CONFIG.format(root=tmp / "data", port=port, cert=cert, key=key))
    proc = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(tmp / "registry.log", "wb"))
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp / "registry.log").read_text()) from None
                time.sleep(0.05)
        yield cd
    finally:
        proc.terminate()
        proc.wait(10)


def _docker_save(path: Path, repo_tag: str) -> str:
    """A `docker save`-style tarball (manifest.json, <id>.json, <id>/layer.tar) of the
    busybox rootfs; returns the layer's digest."""
    from kubeform.images.oci import Entry, tar_bytes

    layer = tar_bytes([Entry("hello.txt", 0o644, b"hello\n")])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_dir = "0123abcd" * 8
    manifest = json.dumps([{"Config": config_name, "RepoTags": [repo_tag], "Layers": [f"{layer_dir}/layer.tar"]}])
    with tarfile.open(path, "w") as tar:
        for name, data in ((config_name, config), (f"{layer_dir}/layer.tar", layer),
                           ("manifest.json", manifest.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return diff_id


def test_make_push_ls_and_read_back(registry: ClusterDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "busybox.tar"
    assert main(["image", "make", "busybox", "-o", str(archive)]) == 0
    cluster = ["--cluster", str(registry.path)]
    assert main(["image", "push", str(archive), "--name", "busybox:latest", "--name", "busybox:1.36", *cluster]) == 0
    out = capsys.readouterr().out
    assert "pushed library/busybox:latest" in out and "pushed library/busybox:1.36" in out
    assert "2 uploaded" in out and "0 uploaded" in out  # the second name reuses the blobs

    assert main(["image", "ls", *cluster]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG"]
    assert [ln.split() for ln in lines[1:]] == [["library/busybox", "1.36"], ["library/busybox", "latest"]]

    # what a puller gets back is the image `make` built, byte for byte
    built = busybox.build_from_host(arch="amd64")
    with cluster_registry(registry) as client:
        resp = client.session.get(
            f"{client.base_url}/v2/library/busybox/manifests/1.36",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        )
    assert resp.status_code == 200
    assert resp.headers["Docker-Content-Digest"] == built.digest
    assert resp.content == built.manifest


def test_docker_save_tarball_goes_under_its_mirror_path(
    registry: ClusterDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "saved.tar"
    diff_id = _docker_save(archive, "quay.io/team/tool:1")
    cluster = ["--cluster", str(registry.path)]
    assert main(["image", "push", str(archive), *cluster]) == 0
    assert "pushed team/tool:1" in capsys.readouterr().out
    with cluster_registry(registry) as client:
        assert client.tags("team/tool") == ["1"]
        assert client.blob_exists("team/tool", diff_id)
        manifest = client.session.get(
            f"{client.base_url}/v2/team/tool/manifests/1",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        ).json()
    assert manifest["layers"][0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert manifest["layers"][0]["digest"] == diff_id


def test_a_registry_with_a_foreign_certificate_is_refused(
    registry: ClusterDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = ClusterDir.create(tmp_path / "other", "other", ["https://127.0.0.1:1"],
                              extra={"registry": registry.extra["registry"]})
    assert main(["image", "ls", "--cluster", str(other.path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "TLS verification of the registry" in err
    assert len(err.splitlines()) == 1


def test_a_cluster_without_registry_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cd = ClusterDir.create(tmp_path / "c", "noreg", ["https://127.0.0.1:1"])
    assert main(["image", "ls", "--cluster", str(cd.path)]) == 1
    assert "has no image registry" in capsys.readouterr().err


def test_unreachable_registry_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cd = ClusterDir.create(tmp_path / "c", "gone", ["https://127.0.0.1:1"],
                           extra={"registry": f"127.0.0.1:{_free_port()}"})
    assert main(["image", "ls", "--cluster", str(cd.path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "cannot reach the registry" in err and len(err.splitlines()) == 1
