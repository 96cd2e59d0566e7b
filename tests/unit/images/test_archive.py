"""Reading OCI archives and `docker save` tarballs (made here, in tmp_path)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from kubeform.errors import UserError
from kubeform.images import mediatypes, oci
from kubeform.images import push as pushing
from kubeform.images.archive import Archive
from kubeform.images.oci import BuiltImage, Entry, tar_bytes


def _image(content: bytes = b"hello\n") -> BuiltImage:
    layer = tar_bytes([Entry("hello.txt", 0o644, content)])
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [oci.digest_of(layer)]}}).encode()
    return BuiltImage(config, [layer], [mediatypes.OCI_LAYER])


def _write_tar(path: Path, files: dict[str, bytes], links: dict[str, str] | None = None) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)


def test_oci_archive_gives_the_exact_manifest_and_its_blobs(tmp_path: Path) -> None:
    image = _image()
    path = tmp_path / "img.tar"
    path.write_bytes(oci.layout_tar(image, "docker.io/library/hello:1", "1"))
    with Archive(path) as ar:
        assert ar.format == "oci"
        [got] = ar.images
        assert got.manifest == image.manifest and got.digest == image.digest
        assert got.media_type == mediatypes.OCI_MANIFEST
        assert got.names == ["docker.io/library/hello:1"]
        assert [b.digest for b in got.blobs] == [oci.digest_of(image.config), oci.digest_of(image.layers[0])]
        with ar.open(got.blobs[1]) as f:
            assert f.read() == image.layers[0]


def test_oci_ref_name_that_is_only_a_tag_is_no_name(tmp_path: Path) -> None:
    image = _image()
    raw = oci.layout_tar(image, "docker.io/library/hello:1", "1")
    # rewrite index.json as skopeo writes it for oci-archive:FILE:latest (ref.name only)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    index = json.loads(files["index.json"])
    index["manifests"][0]["annotations"] = {mediatypes.ANNOTATION_REF_NAME: "latest"}
    files["index.json"] = json.dumps(index).encode()
    path = tmp_path / "skopeo.tar"
    _write_tar(path, files)
    with Archive(path) as ar:
        assert ar.images[0].names == []
        with pytest.raises(UserError, match="does not name its image"):
            pushing.targets(ar, [])
        [(img, ref)] = pushing.targets(ar, ["hello:2"])
        assert ref.mirror_ref == "library/hello:2" and img is ar.images[0]


def test_oci_archive_with_an_index_takes_this_platform(tmp_path: Path) -> None:
    amd, arm = _image(b"amd\n"), _image(b"arm\n")
    files = {"oci-layout": b'{"imageLayoutVersion":"1.0.0"}'}
    for img in (amd, arm):
        for blob in (img.config, *img.layers, img.manifest):
            files[f"blobs/sha256/{oci.digest_of(blob)[7:]}"] = blob
    index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": arm.digest, "size": len(arm.manifest),
         "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": mediatypes.OCI_MANIFEST, "digest": amd.digest, "size": len(amd.manifest),
         "platform": {"os": "linux", "architecture": "amd64"}},
    ]}
    raw_index = json.dumps(index).encode()
    files[f"blobs/sha256/{oci.digest_of(raw_index)[7:]}"] = raw_index
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": mediatypes.OCI_INDEX, "digest": oci.digest_of(raw_index), "size": len(raw_index),
         "annotations": {mediatypes.ANNOTATION_IMAGE_NAME: "quay.io/a/multi:1"}}]}).encode()
    path = tmp_path / "multi.tar"
    _write_tar(path, files)
    with Archive(path, platform_=("linux", "amd64")) as ar:
        assert ar.images[0].digest == amd.digest and ar.images[0].names == ["quay.io/a/multi:1"]
    with pytest.raises(UserError, match="no linux/s390x manifest"):
        Archive(path, platform_=("linux", "s390x"))


def test_docker_save_tarball_becomes_an_oci_manifest(tmp_path: Path) -> None:
    image = _image()
    layer = image.layers[0]
    config_name = hashlib.sha256(image.config).hexdigest() + ".json"
    # docker save links a layer shared by two images to the first copy
    manifest = [
        {"Config": config_name, "RepoTags": ["hello:1", "quay.io/a/b:2"], "Layers": ["aaa/layer.tar"]},
        {"Config": config_name, "RepoTags": ["hello:dup"], "Layers": ["bbb/layer.tar"]},
    ]
    path = tmp_path / "saved.tar"
    _write_tar(path, {config_name: image.config, "aaa/layer.tar": layer,
                      "manifest.json": json.dumps(manifest).encode()},
               links={"bbb/layer.tar": "../aaa/layer.tar"})
    with Archive(path) as ar:
        assert ar.format == "docker"
        first, second = ar.images
        assert first.manifest == image.manifest  # same bytes as built directly: same digest
        assert first.names == ["hello:1", "quay.io/a/b:2"]
        assert second.blobs[1].size == len(layer)
        with ar.open(second.blobs[1]) as f:
            assert f.read() == layer
        refs = [r.mirror_ref for _, r in pushing.targets(ar, [])]
        assert refs == ["library/hello:1", "a/b:2", "library/hello:dup"]
        with pytest.raises(UserError, match="--name needs an archive with one image"):
            pushing.targets(ar, ["x:1"])


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"hello.txt": b"hi"}, "not an image archive"),
        ({"manifest.json": b"{not json"}, "manifest.json is not JSON"),
        ({"index.json": b'{"manifests": []}'}, "holds no image"),
        ({"manifest.json": b'[{"Config": "c.json", "Layers": []}]'}, "lacks c.json"),
    ],
)
def test_bad_archives_are_one_line_errors(tmp_path: Path, files: dict[str, bytes], message: str) -> None:
    path = tmp_path / "bad.tar"
    _write_tar(path, files)
    with pytest.raises(UserError, match=message) as info:
        Archive(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_not_a_tar_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00" * 10 + b"junk")
    with pytest.raises(UserError, match="not a tar archive"):
        Archive(junk)
    with pytest.raises(UserError, match="no such file"):
        Archive(tmp_path / "missing.tar")
