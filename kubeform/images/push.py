"""Pushing an archive's images into the cluster registry under their mirror paths.

Why mirror paths: the agents ask the cluster registry for ``library/nginx:1.29`` when a
pod says ``nginx:1.29`` (see reference.py), so the push stores it exactly there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubeform.errors import UserError
from kubeform.images import reference
from kubeform.images.archive import Archive, Image
from kubeform.images.registry import RegistryClient


@dataclass(frozen=True)
class Pushed:
    """What one push did, for the CLI's line."""

    ref: reference.Reference
    digest: str
    blobs: int
    uploaded: int
    size: int
    uploaded_bytes: int


def targets(archive: Archive, names: Sequence[str]) -> list[tuple[Image, reference.Reference]]:
    """Which image goes where: ``--name`` for a one-image archive, else the archive's names."""
    if names:
        if len(archive.images) != 1:
            raise UserError(
                f"--name needs an archive with one image; this one has {len(archive.images)}",
                file=archive.path,
                hint="push without --name: each image goes under the names the archive gives it",
            )
        return [(archive.images[0], reference.parse(n)) for n in names]
    out: list[tuple[Image, reference.Reference]] = []
    for image in archive.images:
        if not image.names:
            raise UserError(
                "the archive does not name its image",
                file=archive.path,
                hint="give the name to push it as: --name REF (e.g. --name nginx:1.29)",
            )
        out.extend((image, reference.parse(n)) for n in image.names)
    return out


def push(
    client: RegistryClient,
    archive: Archive,
    image: Image,
    ref: reference.Reference,
    *,
    progress: Callable[[str], None] | None = None,
) -> Pushed:
    """Blobs first (skipping those the registry has), then the manifest under the tag."""
    repo = ref.mirror_path
    uploaded = uploaded_bytes = 0
    for blob in image.blobs:
        if client.blob_exists(repo, blob.digest):
            continue
        if progress:
            progress(f"uploading {blob.digest[:19]} ({blob.size} bytes)")
        with archive.open(blob) as data:
            client.upload_blob(repo, blob.digest, blob.size, data)
        uploaded += 1
        uploaded_bytes += blob.size
    if ref.digest and ref.digest != image.digest:
        raise UserError(f"{ref} names digest {ref.digest} but the archive's image is {image.digest}")
    client.put_manifest(repo, ref.tag or image.digest, image.manifest, image.media_type)
    return Pushed(ref, image.digest, len(image.blobs), uploaded, image.size, uploaded_bytes)
