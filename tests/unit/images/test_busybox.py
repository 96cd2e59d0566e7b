"""The busybox image `kubeform image make busybox` builds: reproducible, complete, runnable."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from kubeform.cli.main import main
from kubeform.errors import UserError
from kubeform.images import busybox, oci
from kubeform.images.archive import Archive

FAKE = b"\x7fELF" + b"static busybox" * 10


def test_same_binary_same_digest() -> None:
    a = busybox.build(FAKE, ["sh", "ls"], arch="amd64")
    b = busybox.build(FAKE, ["ls", "sh", "sh"], arch="amd64")
    assert a.digest == b.digest
    assert busybox.build(FAKE + b"!", ["sh", "ls"], arch="amd64").digest != a.digest
    assert busybox.build(FAKE, ["sh", "ls"], arch="arm64").digest != a.digest


def test_layer_has_the_binary_applet_links_and_fixed_metadata() -> None:
    image = busybox.build(FAKE, ["sh", "httpd", "nc", "sleep"], arch="amd64")
    with tarfile.open(fileobj=io.BytesIO(image.layers[0])) as tar:
        members = {m.name.rstrip("/"): m for m in tar.getmembers()}
        assert tar.extractfile("bin/busybox").read() == FAKE  # type: ignore[union-attr]
    for applet in ("sh", "httpd", "nc", "sleep"):
        assert members[f"bin/{applet}"].issym() and members[f"bin/{applet}"].linkname == "busybox"
    assert members["tmp"].isdir() and members["tmp"].mode == 0o1777
    assert "root:x:0:0" in busybox.PASSWD and "etc/passwd" in members
    assert {m.mtime for m in members.values()} == {0}
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}
    config = json.loads(image.config)
    assert config["config"]["Cmd"] == ["sh"]
    assert config["rootfs"]["diff_ids"] == [oci.digest_of(image.layers[0])]
    assert config["architecture"] == "amd64" and config["os"] == "linux"


def test_dynamic_binary_is_refused(tmp_path: Path) -> None:
    dyn = tmp_path / "busybox"
    dyn.write_bytes(b"\x7fELF" + b"\x00" * 100 + b"/lib64/ld-linux-x86-64.so.2")
    with pytest.raises(UserError, match="linked dynamically"):
        busybox.build_from_host(str(dyn), arch="amd64")
    with pytest.raises(UserError, match="busybox-static"):
        busybox.build_from_host(str(tmp_path / "none"), arch="amd64")


@pytest.mark.skipif(not Path(busybox.BUSYBOX).exists(), reason="busybox-static not installed")
def test_make_writes_a_reproducible_named_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one, two = tmp_path / "one.tar", tmp_path / "two.tar"
    assert main(["image", "make", "busybox", "-o", str(one), "--name", "busybox:1.36"]) == 0
    assert main(["image", "make", "busybox", "-o", str(two), "--name", "busybox:1.36"]) == 0
    assert one.read_bytes() == two.read_bytes()
    assert "docker.io/library/busybox:1.36" in capsys.readouterr().out
    with Archive(one) as ar:
        [image] = ar.images
        assert image.names == ["docker.io/library/busybox:1.36"]
    applets = busybox.applets_of(busybox.BUSYBOX)
    assert {"sh", "ls", "cat", "echo", "sleep", "wget", "httpd", "nc"} <= set(applets)
