"""Manifests built from parts: a `docker save` image becomes an OCI image manifest.

Why OCI: both the registry (distribution 2.7+) and every puller the agents use (skopeo,
umoci, docker 20.10+) accept it, and its layer media types say whether a layer is
compressed, so `docker save`'s plain tar layers are pushed as they are, unchanged, and
their digests stay equal to the config's diff_ids. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubeform.images import mediatypes


@dataclass(frozen=True)
class Descriptor:
    """What a manifest says about one blob."""

    media_type: str
    digest: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


def encode(doc: dict[str, Any]) -> bytes:
    """Canonical-enough JSON (compact, keys in the order given): the bytes that get a digest."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def oci_manifest(config: Descriptor, layers: Sequence[Descriptor]) -> bytes:
    """An OCI image manifest for a config blob and layers, in order (base first)."""
    return encode(
        {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": config.as_json(),
            "layers": [layer.as_json() for layer in layers],
        }
    )


def oci_index(manifest: Descriptor, annotations: dict[str, str]) -> bytes:
    """An OCI layout's index.json naming one manifest."""
    entry = manifest.as_json()
    if annotations:
        entry["annotations"] = dict(sorted(annotations.items()))
    return encode({"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": [entry]})


def blob_digests(manifest: dict[str, Any]) -> list[str]:
    """The blobs an image manifest references: its config, then its layers."""
    out = []
    config = manifest.get("config")
    if isinstance(config, dict) and config.get("digest"):
        out.append(str(config["digest"]))
    for layer in manifest.get("layers") or []:
        if isinstance(layer, dict) and layer.get("digest"):
            out.append(str(layer["digest"]))
    return out


def pick_platform(index: dict[str, Any], os_name: str, arch: str) -> dict[str, Any] | None:
    """The descriptor of ``os_name/arch`` in an image index (None when absent).

    An entry without a platform counts only when it is the index's sole manifest
    (archives saved for one platform often omit it).
    """
    entries = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    for m in entries:
        p = m.get("platform") or {}
        if p.get("os") == os_name and p.get("architecture") == arch:
            return m
    if len(entries) == 1 and not entries[0].get("platform"):
        return entries[0]
    return None
