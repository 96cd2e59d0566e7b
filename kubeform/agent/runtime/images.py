"""Images for the crun runtime: pulled with skopeo, unpacked once with umoci, shared.

Why this shape: every reference is looked for in the cluster registry first (a mirror
under the same repository path, as k3s's registries.yaml does), then at its origin, so
an offline site runs whatever was pushed to its registry. Pulls land in one local OCI
layout (<state_dir>/images/oci, blobs shared between images); each image digest is
unpacked once into <state_dir>/images/rootfs/<hex>/rootfs, the read-only lower layer of
every container of that image. What the store holds is read back from disk (the layout's
index.json), so a restarted agent does not pull again.
"""

import json
import os
import shutil
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional

from . import imageref
from .driver import ImageInfo, PullError

PULL_TIMEOUT = 600


class ImageStore(object):
    def __init__(self, state_dir: str, registry: str, registry_ca: str) -> None:
        self.root = os.path.join(state_dir, "images")
        self.layout = os.path.join(self.root, "oci")
        self.registry = registry
        self.registry_ca = registry_ca
        # Pulls are serialized (the kubelet's default, serializeImagePulls): skopeo rewrites
        # the layout's index.json. Looking up and unpacking present images has its own lock,
        # so a pod whose image is here never waits for another pod's slow pull.
        self._pull_lock = threading.Lock()
        self._lock = threading.Lock()

    # --- paths ---------------------------------------------------------------------------
    def rootfs(self, digest: str) -> str:
        """The unpacked, shared root filesystem of an image digest."""
        return os.path.join(self.root, "rootfs", digest.split(":", 1)[-1], "rootfs")

    def cert_dir(self) -> str:
        """A directory with the cluster CA as ca.crt (skopeo's --src-cert-dir)."""
        d = os.path.join(self.root, "certs", self.registry.replace(":", "_"))
        target = os.path.join(d, "ca.crt")
        if not os.path.exists(target) and os.path.exists(self.registry_ca):
            os.makedirs(d, exist_ok=True)
            shutil.copyfile(self.registry_ca, target + ".tmp")
            os.rename(target + ".tmp", target)
        return d

    # --- the Driver method ---------------------------------------------------------------
    def ensure_image(self, ref: str, pull_policy: str) -> ImageInfo:
        """Have ref locally per pull_policy; PullError (ErrImagePull, ErrImageNeverPull,
        InvalidImageName) with the registry's reason when impossible."""
        try:
            norm = imageref.normalize(ref)
        except imageref.RefError as exc:
            raise PullError(str(exc), "InvalidImageName") from None
        tag = imageref.store_tag(norm)
        policy = pull_policy or ("Always" if norm.tag == "latest" and not norm.digest else "IfNotPresent")
        if policy != "Always":
            with self._lock:
                info = self._local(ref, tag)
            if info is not None:
                return info
            if policy == "Never":
                raise PullError(
                    'Container image "%s" is not present with pull policy of Never' % ref, "ErrImageNeverPull"
                )
        with self._pull_lock:
            if policy != "Always":  # pulled by another pod while this one waited
                with self._lock:
                    info = self._local(ref, tag)
                if info is not None:
                    return info
            self._pull(ref, norm, tag)
            with self._lock:
                info = self._local(ref, tag)
        if info is None:
            raise PullError("pulled %s but the local store does not hold it" % ref)
        return info

    def _local(self, ref: str, tag: str) -> Optional[ImageInfo]:
        """The image the layout holds under tag, unpacked (once) if it was not yet."""
        path = os.path.join(self.layout, "index.json")
        index = _read_json(path)
        for _ in range(5):  # skopeo rewrites index.json in place: a read may catch it half-written
            if index is not None or not os.path.exists(path):
                break
            time.sleep(0.05)
            index = _read_json(path)
        desc = imageref.find_manifest(index or {}, tag)
        if desc is None:
            return None
        digest = str(desc.get("digest", ""))
        manifest = _read_json(self._blob(digest))
        if manifest is None:
            return None
        config = _read_json(self._blob(str((manifest.get("config") or {}).get("digest", ""))))
        if config is None:
            return None
        if not os.path.isdir(self.rootfs(digest)):
            self._unpack(tag, digest)
        return imageref.image_info(ref, digest, config)

    def _blob(self, digest: str) -> str:
        algo, _, hexpart = digest.partition(":")
        return os.path.join(self.layout, "blobs", algo or "sha256", hexpart)

    def _pull(self, ref: str, norm: imageref.ImageRef, tag: str) -> None:
        os.makedirs(self.root, exist_ok=True)
        reasons = []  # type: List[str]
        for src in imageref.sources(norm, self.registry):
            argv = ["skopeo", "copy", "--quiet"]
            if self.registry and src.startswith("docker://%s/" % self.registry):
                argv += ["--src-cert-dir", self.cert_dir()]
            argv += [src, "oci:%s:%s" % (self.layout, tag)]
            err = _run(argv, PULL_TIMEOUT)
            if err is None:
                return
            reasons.append(imageref.pull_reason(err))
        # the origin's reason says most (the mirror's is usually "manifest unknown")
        raise PullError(reasons[-1])  # the lifecycle's event says 'Failed to pull image "ref": ...'

    def _unpack(self, tag: str, digest: str) -> None:
        final = os.path.dirname(self.rootfs(digest))
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        err = _run(["umoci", "unpack", "--image", "%s:%s" % (self.layout, tag), tmp], PULL_TIMEOUT)
        if err is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            raise PullError("cannot unpack %s: %s" % (digest, imageref.pull_reason(err)))
        os.rename(tmp, final)

    def remove(self, ref: str) -> None:
        """Forget ref's tag (blobs stay until a GC; not needed by the lifecycle yet)."""
        _run(["umoci", "rm", "--image", "%s:%s" % (self.layout, imageref.store_tag(imageref.normalize(ref)))], 60)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _run(argv: List[str], timeout: float) -> Optional[str]:
    """Run a tool; None when it succeeded, else its stderr (or why it could not run)."""
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=timeout,
        )
    except OSError as exc:
        return "%s: %s" % (argv[0], exc.strerror)
    except subprocess.TimeoutExpired:
        return "%s timed out after %ds" % (argv[0], timeout)
    if proc.returncode != 0:
        return proc.stderr or proc.stdout or ("%s exited %d" % (argv[0], proc.returncode))
    return None
