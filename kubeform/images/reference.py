"""Image references, normalized as Docker does, and their path in the cluster registry.

Why: the registry on the first master is a mirror of every origin at once (as k3s's
registries.yaml mirrors), so an image must land under the path the agents will ask for.
That path is the normalized reference without its registry host: ``nginx:1.29`` is
``docker.io/library/nginx:1.29`` and is stored as ``library/nginx:1.29``;
``quay.io/a/b:1`` is stored as ``a/b:1``. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubeform.errors import UserError

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
#: Docker Hub's other names, all meaning docker.io.
_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io"}

# distribution/reference grammar (lowercase path components, tag, sha256 digest)
_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$")


@dataclass(frozen=True)
class Reference:
    """A fully qualified image reference: registry host, repository path, tag and/or digest."""

    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def mirror_path(self) -> str:
        """Repository path in the cluster registry (the reference without its host)."""
        return self.repository

    @property
    def tag_or_digest(self) -> str:
        """What goes after /manifests/ : the digest when pinned, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        out = f"{self.registry}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    @property
    def mirror_ref(self) -> str:
        """``path:tag`` (or ``path@digest``) as `kubeform image ls` shows it."""
        if self.digest and not self.tag:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"


def parse(text: str) -> Reference:
    """Normalize ``text`` as Docker does; a malformed reference is a UserError."""
    ref = text.strip()
    if not ref:
        raise UserError("empty image reference")
    name, digest = ref, None
    if "@" in ref:
        name, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            raise UserError(f"invalid image reference {text!r}: bad digest {digest!r}")
    tag = None
    # a ':' after the last '/' is a tag; before it, a registry port
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise UserError(f"invalid image reference {text!r}: bad tag {tag!r}")
    parts = name.split("/")
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.match(first):
            raise UserError(f"invalid image reference {text!r}: bad registry host {first!r}")
        registry, path = first, parts[1:]
    else:
        registry, path = DEFAULT_REGISTRY, parts
    if registry in _HUB_ALIASES:
        registry = DEFAULT_REGISTRY
        if len(path) == 1:
            path = ["library", *path]
    for comp in path:
        if not _COMPONENT.match(comp):
            hint = "repository names are lowercase" if comp.lower() != comp else None
            raise UserError(f"invalid image reference {text!r}: bad path component {comp!r}", hint=hint)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(registry, "/".join(path), tag, digest)


def mirror_path(text: str) -> str:
    """``nginx:1.29`` -> ``library/nginx:1.29``; what the agents ask the cluster registry for."""
    return parse(text).mirror_ref
