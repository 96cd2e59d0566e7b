"""Writing an OCI image layout into a tar (an oci-archive), byte for byte reproducible.

Why reproducible: the same inputs give the same archive and the same image digest, so
pushing a rebuilt image changes nothing and tests can pin digests. Every entry has a fixed
mtime, owner root and a fixed order.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubeform.images import manifest as mf
from kubeform.images import mediatypes

#: mtime of every entry (the epoch: the image's own `created` is the epoch too).
EPOCH = 0


@dataclass(frozen=True)
class Entry:
    """One tar entry: a file (data), a directory, or a symlink (link)."""

    path: str
    mode: int
    data: bytes | None = None
    link: str | None = None

    @property
    def is_dir(self) -> bool:
        return self.data is None and self.link is None


def tar_bytes(entries: Iterable[Entry]) -> bytes:
    """A reproducible ustar archive of ``entries`` in the order given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.path + ("/" if e.is_dir and not e.path.endswith("/") else ""))
            info.mtime = EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mode = e.mode
            if e.link is not None:
                info.type = tarfile.SYMTYPE
                info.linkname = e.link
                tar.addfile(info)
            elif e.data is not None:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
    return buf.getvalue()


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class BuiltImage:
    """An image made in memory: config and layers (base first), with its manifest."""

    config: bytes
    layers: Sequence[bytes]
    layer_types: Sequence[str]

    @property
    def manifest(self) -> bytes:
        return mf.oci_manifest(
            mf.Descriptor(mediatypes.OCI_CONFIG, digest_of(self.config), len(self.config)),
            [mf.Descriptor(t, digest_of(b), len(b)) for t, b in zip(self.layer_types, self.layers, strict=True)],
        )

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


def layout_tar(image: BuiltImage, full_name: str, tag: str) -> bytes:
    """The oci-archive bytes: oci-layout, index.json naming the image, and the blobs.

    The index entry carries containerd's full-name annotation and OCI's ref.name (the tag,
    as skopeo and umoci use it: ``oci-archive:FILE:TAG``).
    """
    manifest = image.manifest
    index = mf.oci_index(
        mf.Descriptor(mediatypes.OCI_MANIFEST, digest_of(manifest), len(manifest)),
        {mediatypes.ANNOTATION_IMAGE_NAME: full_name, mediatypes.ANNOTATION_REF_NAME: tag},
    )
    blobs = {digest_of(b): b for b in (image.config, *image.layers, manifest)}
    entries = [
        Entry("oci-layout", 0o644, b'{"imageLayoutVersion":"1.0.0"}'),
        Entry("index.json", 0o644, index),
        Entry("blobs", 0o755),
        Entry("blobs/sha256", 0o755),
    ]
    entries += [Entry(f"blobs/sha256/{d.split(':', 1)[1]}", 0o644, b) for d, b in sorted(blobs.items())]
    return tar_bytes(entries)
