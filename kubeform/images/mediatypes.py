"""Media types of the OCI image spec and Docker's v2 schema 2, in one place."""

from __future__ import annotations

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)

#: containerd's annotation with the full image name (also written by `docker save` 25+).
ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
#: the OCI annotation naming a manifest in an index (by convention a tag, sometimes a full name).
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"


def layer_type(head: bytes) -> str:
    """The OCI layer media type for a layer whose first bytes are ``head``."""
    if head[:2] == b"\x1f\x8b":
        return OCI_LAYER_GZIP
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return OCI_LAYER_ZSTD
    return OCI_LAYER
