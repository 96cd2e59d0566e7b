"""Local persistent volumes on this node: where a claim's directory is, and which
directories of released volumes to remove.

Why here: the reconciler's local-path provisioner only writes objects (a
PersistentVolume with a ``hostPath`` directory and node affinity to one node); the
directory itself lives on that node, so its agent makes it when a pod mounts the claim
and removes it when the volume was released with reclaimPolicy Delete. Both are
level-triggered: every pass reads the claims and volumes from its informers.

Pure functions decide (``claim_path``, ``to_reclaim``, ``safe_volume_path``); ``ensure_dir``
and ``remove_dir`` are the side effects.
"""

import os
import posixpath
import shutil
from typing import Any, Dict, List, NamedTuple, Optional, Set

Obj = Dict[str, Any]

PROVISIONER = "kubeform.io/local-path"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
HOSTNAME_LABEL = "kubernetes.io/hostname"


class ClaimError(Exception):
    """A claim cannot be mounted here (yet); the message says why, for FailedMount."""


def volume_dir(pv: Obj) -> str:
    spec = pv.get("spec") or {}
    return str((spec.get("hostPath") or {}).get("path") or (spec.get("local") or {}).get("path") or "")


def pinned_nodes(pv: Obj) -> Optional[Set[str]]:
    """The nodes a volume's affinity names by host name (None: not pinned by name)."""
    required = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")) or {}
    names: Set[str] = set()
    pinned = False
    for term in required.get("nodeSelectorTerms") or []:
        for req in list(term.get("matchExpressions") or []) + list(term.get("matchFields") or []):
            if req.get("key") in (HOSTNAME_LABEL, "metadata.name") and req.get("operator") == "In":
                pinned = True
                names.update(str(v) for v in req.get("values") or [])
    return names if pinned else None


def claim_path(claim_name: str, claims: Dict[str, Obj], volumes: Dict[str, Obj], node: str) -> str:
    """The host directory of claim ``claim_name`` (``claims`` of the pod's namespace by name,
    ``volumes`` by name); ClaimError when it is missing, unbound or on another node."""
    claim = claims.get(claim_name)
    if claim is None:
        raise ClaimError('persistentvolumeclaim "%s" not found' % claim_name)
    pv_name = (claim.get("spec") or {}).get("volumeName")
    if not pv_name:
        raise ClaimError('persistentvolumeclaim "%s" is not bound yet' % claim_name)
    pv = volumes.get(str(pv_name))
    if pv is None:
        raise ClaimError('persistentvolume "%s" not found' % pv_name)
    path = volume_dir(pv)
    if not path:
        raise ClaimError('persistentvolume "%s" is not a local volume (hostPath or local)' % pv_name)
    nodes = pinned_nodes(pv)
    if nodes is not None and node not in nodes:
        raise ClaimError('volume node affinity conflict: persistentvolume "%s" is on node %s' % (pv_name, ",".join(sorted(nodes))))
    return path


def safe_volume_path(pv: Obj) -> bool:
    """A directory this agent may remove: absolute, normalised, below a directory of its own
    (never / or a top-level directory), and named after the volume, as the provisioner
    names it (``<volume>_<namespace>_<claim>``). Anything else is left on disk."""
    path = volume_dir(pv)
    name = str((pv.get("metadata") or {}).get("name") or "")
    if not path or not name or not path.startswith("/") or posixpath.normpath(path) != path:
        return False
    if len([p for p in path.split("/") if p]) < 2:
        return False
    return posixpath.basename(path).startswith(name + "_")


class Reclaim(NamedTuple):
    key: str
    mod_revision: int
    path: str


def to_reclaim(volumes: Dict[str, Any], node: str, in_use: Set[str]) -> List[Reclaim]:
    """Volumes (key -> (mod_revision, object)) this node must remove: provisioned by the
    local-path provisioner, Released, reclaimPolicy Delete, pinned to this node only, with
    a safe path, and no pod here still using their claim (``in_use``: "ns/claim")."""
    out: List[Reclaim] = []
    for key, (rev, pv) in sorted(volumes.items()):
        notes = (pv.get("metadata") or {}).get("annotations") or {}
        spec = pv.get("spec") or {}
        if notes.get(PROVISIONED_BY) != PROVISIONER:
            continue
        if (pv.get("status") or {}).get("phase") != "Released" or spec.get("persistentVolumeReclaimPolicy") != "Delete":
            continue
        if pinned_nodes(pv) != {node} or not safe_volume_path(pv):
            continue
        ref = spec.get("claimRef") or {}
        if "%s/%s" % (ref.get("namespace") or "default", ref.get("name")) in in_use:
            continue
        out.append(Reclaim(key, rev, volume_dir(pv)))
    return out


def ensure_dir(path: str) -> None:
    """The claim's directory, made if absent: its parent (the volumes root) 0700 so no other
    user of the host can reach into volumes, the directory itself 0777 like an emptyDir so a
    container running as any user can write its data (as k3s's local-path makes it)."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, 0o700)
        os.chmod(parent, 0o700)
    if not os.path.isdir(path):
        os.mkdir(path, 0o777)
        os.chmod(path, 0o777)


def remove_dir(path: str) -> None:
    """Remove a released volume's directory (gone already is fine)."""
    if os.path.islink(path):
        os.unlink(path)
        return
    if os.path.isdir(path):
        shutil.rmtree(path)
