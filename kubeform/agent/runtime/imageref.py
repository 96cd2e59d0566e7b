"""Image references and OCI image metadata, as pure functions (used by images.py).

Why: where an image is looked for (the cluster registry first, under the same repository
path, then its origin) and what a container inherits from it (Entrypoint, Cmd, Env,
WorkingDir, User) are decisions on strings and JSON, tested with data files.
"""

import hashlib
import json
import re
from typing import Any, Dict, List, NamedTuple, Optional

from .driver import ImageInfo

DEFAULT_DOMAIN = "docker.io"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class RefError(ValueError):
    """Not a valid image reference (the pod's image field is wrong: InvalidImageName)."""


class ImageRef(NamedTuple):
    domain: str  # docker.io, quay.io, 10.0.0.1:5000
    path: str  # library/nginx, a/b
    tag: str  # "" when only a digest is given
    digest: str  # "" or sha256:...

    def __str__(self) -> str:
        return self.domain + "/" + self.repo_suffix()

    def repo_suffix(self) -> str:
        """path:tag or path@digest, the part the mirror shares with the origin (with both,
        the digest wins, as containerd pulls it: skopeo takes no tag+digest reference)."""
        if self.digest:
            return self.path + "@" + self.digest
        return self.path + ":" + self.tag


_PATH_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")


def normalize(ref: str) -> ImageRef:
    """Docker's rules: a first part with '.' or ':' (or localhost) is a registry, else
    docker.io; docker.io's one-part names live under library/; no tag nor digest: latest."""
    ref = ref.strip()
    if not ref:
        raise RefError("empty image reference")
    name, digest = ref, ""
    if "@" in ref:
        name, _, digest = ref.partition("@")
        if not _DIGEST_RE.match(digest):
            raise RefError("invalid digest in image reference %r" % ref)
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, _, tag = name.rpartition(":")
        if not _TAG_RE.match(tag):
            raise RefError("invalid tag in image reference %r" % ref)
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = "library/" + path
    if not _PATH_RE.match(path):
        raise RefError("invalid repository name in image reference %r" % ref)
    if not tag and not digest:
        tag = "latest"
    return ImageRef(domain, path, tag, digest)


def sources(ref: ImageRef, mirror: str) -> List[str]:
    """skopeo source references, in order: the cluster registry (same repository path),
    then the origin. A reference already naming the cluster registry has one source."""
    origin = "docker://" + str(ref)
    if not mirror or ref.domain == mirror:
        return [origin]
    return ["docker://%s/%s" % (mirror, ref.repo_suffix()), origin]


def store_tag(ref: ImageRef) -> str:
    """The name under which the local OCI layout keeps ref (umoci's tags allow no '/')."""
    return "r-" + hashlib.sha256(str(ref).encode()).hexdigest()[:40]


def find_manifest(index: Dict[str, Any], tag: str) -> Optional[Dict[str, Any]]:
    """The descriptor index.json holds for tag (the last one: a re-pull replaces it)."""
    found = None
    for desc in index.get("manifests") or []:
        if (desc.get("annotations") or {}).get(REF_ANNOTATION) == tag:
            found = desc
    return found


def image_info(ref: str, digest: str, config: Dict[str, Any]) -> ImageInfo:
    """What a container inherits from the image's config blob."""
    c = config.get("config") or {}
    return ImageInfo(
        ref=ref,
        digest=digest,
        entrypoint=list(c.get("Entrypoint") or []),
        cmd=list(c.get("Cmd") or []),
        env=list(c.get("Env") or []),
        working_dir=str(c.get("WorkingDir") or ""),
        user=str(c.get("User") or ""),
        stop_signal=str(c.get("StopSignal") or ""),
    )


def info_to_json(info: ImageInfo) -> str:
    return json.dumps(dict(info._asdict()), sort_keys=True)


def info_from_json(text: str) -> ImageInfo:
    raw = json.loads(text)
    # fields added later (stop_signal) keep their defaults in infos cached before them
    return ImageInfo(**{k: raw[k] for k in ImageInfo._fields if k in raw})


_NOISE = re.compile(r'^(time="[^"]*" level=\w+ msg=")|("$)')


def pull_reason(stderr: str) -> str:
    """The registry's reason from skopeo's stderr, short: its last line, without the
    logrus prefix and the repeated 'initializing source ...:' context."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "unknown error"
    line = _NOISE.sub("", lines[-1]).replace('\\"', '"')
    for marker in ("reading manifest ", "initializing source "):
        i = line.find(marker)
        if i >= 0:
            line = line[i:]
            break
    return line[:300]
