"""Reading image archives: an OCI layout in a tar (oci-archive) or a `docker save` tarball.

Why both: skopeo, buildah and `docker save` 25+ write OCI layouts, older `docker save`
writes manifest.json with one tar per layer, and a site moving images by USB stick has
whichever its tools made. Either way the result is a list of images, each with the exact
manifest bytes to push and the blobs it needs, opened from the tar only when uploaded.
"""

from __future__ import annotations

import hashlib
import json
import platform
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kubeform.errors import UserError
from kubeform.images import manifest as mf
from kubeform.images import mediatypes


@dataclass(frozen=True)
class Blob:
    """One blob of an image, and the tar member that holds it."""

    digest: str
    size: int
    member: str


@dataclass
class Image:
    """An image ready to push: manifest bytes (their digest names the image) and blobs."""

    manifest: bytes
    media_type: str
    blobs: list[Blob]
    #: references the archive gives this image (RepoTags, image-name annotations)
    names: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return "sha256:" + hashlib.sha256(self.manifest).hexdigest()

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blobs)


def host_platform() -> tuple[str, str]:
    """(os, architecture) in OCI's spelling for this machine."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)
    return "linux", arch


class Archive:
    """An open image archive; use as a context manager."""

    def __init__(self, path: str | Path, *, platform_: tuple[str, str] | None = None) -> None:
        self.path = str(path)
        try:
            self._tar = tarfile.open(self.path, mode="r:*")
            self._members = {_norm(m.name): m for m in self._tar.getmembers()}
        except FileNotFoundError:
            raise UserError("no such file", file=self.path) from None
        except (tarfile.TarError, OSError, EOFError) as err:
            raise UserError(f"not a tar archive: {err}", file=self.path) from None
        self.platform = platform_ or host_platform()
        if "index.json" in self._members:
            self.format = "oci"
            self.images = self._oci_images()
        elif "manifest.json" in self._members:
            self.format = "docker"
            self.images = self._docker_images()
        else:
            raise UserError(
                "not an image archive: neither index.json (OCI) nor manifest.json (docker save)",
                file=self.path,
            )
        if not self.images:
            raise UserError("the archive holds no image", file=self.path)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._tar.close()

    # -- members -----------------------------------------------------------------------
    def open(self, blob: Blob) -> IO[bytes]:
        """A readable stream of one blob's bytes (seekable, so its length is known)."""
        return self._open_member(blob.member)

    def _open_member(self, name: str) -> IO[bytes]:
        info = self._members.get(name)
        f = self._tar.extractfile(info) if info is not None else None
        if f is None:
            raise UserError(f"the archive lacks {name}", file=self.path)
        return f

    def _read(self, name: str) -> bytes:
        with self._open_member(name) as f:
            return f.read()

    def _json(self, name: str) -> Any:
        try:
            return json.loads(self._read(name))
        except ValueError as err:
            raise UserError(f"{name} is not JSON: {err}", file=self.path) from None

    def _size(self, name: str) -> int:
        info = self._members.get(name)
        while info is not None and (info.issym() or info.islnk()):
            target = info.linkname if info.islnk() else posixpath.normpath(posixpath.join(posixpath.dirname(name), info.linkname))
            name = _norm(target)
            info = self._members.get(name)
        if info is None:
            raise UserError(f"the archive lacks {name}", file=self.path)
        return int(info.size)

    def _sha256(self, name: str) -> str:
        h = hashlib.sha256()
        with self._open_member(name) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return "sha256:" + h.hexdigest()

    # -- OCI layout ----------------------------------------------------------------------
    def _blob_member(self, digest: str) -> str:
        algo, _, hexdigest = digest.partition(":")
        return f"blobs/{algo}/{hexdigest}"

    def _oci_images(self) -> list[Image]:
        index = self._json("index.json")
        images = []
        for desc in index.get("manifests") or []:
            names = _names_of(desc)
            media_type = str(desc.get("mediaType") or "")
            raw = self._read(self._blob_member(str(desc.get("digest"))))
            doc = json.loads(raw)
            media_type = media_type or str(doc.get("mediaType") or mediatypes.OCI_MANIFEST)
            if media_type in mediatypes.INDEXES:
                chosen = mf.pick_platform(doc, *self.platform)
                if chosen is None:
                    raise UserError(
                        f"the image index {desc.get('digest')} has no {'/'.join(self.platform)} manifest",
                        file=self.path,
                    )
                media_type = str(chosen.get("mediaType") or mediatypes.OCI_MANIFEST)
                raw = self._read(self._blob_member(str(chosen.get("digest"))))
                doc = json.loads(raw)
            if media_type not in mediatypes.MANIFESTS:
                raise UserError(f"unsupported manifest type {media_type!r}", file=self.path)
            blobs = []
            for digest in mf.blob_digests(doc):
                member = self._blob_member(digest)
                blobs.append(Blob(digest, self._size(member), member))
            images.append(Image(raw, media_type, blobs, names))
        return images

    # -- docker save -----------------------------------------------------------------------
    def _docker_images(self) -> list[Image]:
        entries = self._json("manifest.json")
        if not isinstance(entries, list):
            raise UserError("manifest.json is not a list", file=self.path)
        images = []
        for entry in entries:
            config_name = _norm(str(entry.get("Config")))
            config = Blob(self._sha256(config_name), self._size(config_name), config_name)
            layers = []
            descriptors = []
            for layer in entry.get("Layers") or []:
                name = _norm(str(layer))
                with self._open_member(name) as f:
                    head = f.read(4)
                blob = Blob(self._sha256(name), self._size(name), name)
                layers.append(blob)
                descriptors.append(mf.Descriptor(mediatypes.layer_type(head), blob.digest, blob.size))
            raw = mf.oci_manifest(
                mf.Descriptor(mediatypes.OCI_CONFIG, config.digest, config.size), descriptors
            )
            names = [str(t) for t in entry.get("RepoTags") or []]
            images.append(Image(raw, mediatypes.OCI_MANIFEST, [config, *layers], names))
        return images

    def __iter__(self) -> Iterator[Image]:
        return iter(self.images)


def _norm(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def _names_of(desc: dict[str, Any]) -> list[str]:
    """Image names an index entry carries: containerd's full name, else a ref.name that is
    more than a bare tag (by OCI convention ref.name is often only ``latest``)."""
    ann = desc.get("annotations") or {}
    full = ann.get(mediatypes.ANNOTATION_IMAGE_NAME)
    if full:
        return [str(full)]
    ref = str(ann.get(mediatypes.ANNOTATION_REF_NAME) or "")
    if ref and (":" in ref or "/" in ref):
        return [ref]
    return []
