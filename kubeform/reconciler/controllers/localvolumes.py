"""Local volumes: claims of the local-path class get a directory on one node, as k3s's
local-path provisioner gives them.

- **Provisioning** (controller ``localvolumes``, one key per claim). A claim whose class is
  provisioned by ``kubeform.io/local-path`` (the built-in default class ``local-path``,
  or any StorageClass naming that provisioner) waits for its first consumer: binding is
  WaitForFirstConsumer, so the scheduler picks the node for the first pod using the claim
  and writes it on the claim (annotation ``volume.kubernetes.io/selected-node``). Then,
  in one transaction, the PersistentVolume ``pvc-<claim uid>`` is created -- a directory
  ``<root>/pvc-<uid>_<namespace>_<claim>`` on that node (``hostPath``, type
  DirectoryOrCreate, node affinity ``kubernetes.io/hostname`` In [node]), the class's
  reclaimPolicy (Delete by default), the claim's size and access modes -- and the claim
  is bound to it (spec.volumeName, status Bound). The node's agent makes the directory
  when a pod mounts it; the scheduler keeps every later pod using the claim on that node.
- **Release** (controller ``localvolume-release``, one key per volume). A bound volume
  whose claim is gone (or is another claim of the same name: the uid differs) becomes
  Released; a claim whose volume is gone becomes Lost. A Released volume with
  reclaimPolicy Delete is removed by the agent of its node (directory, then the object);
  Retain keeps both until the user deletes them.

``root`` is the reconciler's ``local_volume_root`` (default /var/lib/kubeform/volumes);
the daemon builds the controller with ``make_controllers(root)``. Pure: sync reads the
cache and returns actions.
"""

import copy
import datetime
import posixpath
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import events
from kubeform.api.defaults import DEFAULT_STORAGE_CLASS
from kubeform.api.objects import meta

from ..machinery.actions import Action, Create, CreateEvent, Put
from ..machinery.cache import Change
from .base import Controller, View

Obj = Dict[str, Any]

CLAIMS = "/registry/persistentvolumeclaims/"
VOLUMES = "/registry/persistentvolumes/"
CLASSES = "/registry/storageclasses/"

PROVISIONER = "kubeform.io/local-path"
DEFAULT_ROOT = "/var/lib/kubeform/volumes"
SELECTED_NODE = "volume.kubernetes.io/selected-node"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
STORAGE_PROVISIONER = "volume.kubernetes.io/storage-provisioner"
HOSTNAME_LABEL = "kubernetes.io/hostname"
COMPONENT = "kubeform.io/local-path"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"

#: The built-in class when no StorageClass object says otherwise (as builtin_objects writes it).
BUILTIN_CLASS: Obj = {
    "apiVersion": "storage.k8s.io/v1",
    "kind": "StorageClass",
    "metadata": {"name": DEFAULT_STORAGE_CLASS},
    "provisioner": PROVISIONER,
    "reclaimPolicy": "Delete",
    "volumeBindingMode": WAIT_FOR_FIRST_CONSUMER,
}


def storage_class(view: View, name: str) -> Optional[Obj]:
    """The StorageClass ``name``; the built-in local-path class when it has no object."""
    item = view.get(CLASSES + name)
    if item is not None:
        found: Obj = item.obj
        return found
    return copy.deepcopy(BUILTIN_CLASS) if name == DEFAULT_STORAGE_CLASS else None


def is_local(sc: Optional[Obj]) -> bool:
    return sc is not None and sc.get("provisioner") == PROVISIONER


def volume_name(claim: Obj) -> str:
    return "pvc-%s" % meta(claim).get("uid", "")


def volume_path(root: str, claim: Obj) -> str:
    """``<root>/pvc-<uid>_<namespace>_<name>`` (k3s's layout: one directory per claim)."""
    m = meta(claim)
    return posixpath.join(root, "%s_%s_%s" % (volume_name(claim), m.get("namespace") or "default", m.get("name", "")))


def new_volume(claim: Obj, sc: Obj, node: str, root: str) -> Obj:
    """The PersistentVolume for ``claim`` on ``node``, bound to it."""
    m = meta(claim)
    spec = claim.get("spec") or {}
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage") or "0"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": volume_name(claim),
            "annotations": {PROVISIONED_BY: PROVISIONER, "local.path.provisioner/selected-node": node},
        },
        "spec": {
            "capacity": {"storage": str(size)},
            "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy") or "Delete",
            "storageClassName": meta(sc).get("name", ""),
            "volumeMode": "Filesystem",
            "hostPath": {"path": volume_path(root, claim), "type": "DirectoryOrCreate"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": HOSTNAME_LABEL, "operator": "In", "values": [node]}]}
                    ]
                }
            },
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": m.get("namespace") or "default",
                "name": m.get("name", ""),
                "uid": m.get("uid", ""),
            },
        },
        "status": {"phase": "Bound"},
    }


def bound_claim(claim: Obj, volume: Obj, provisioned: bool) -> Obj:
    """The claim bound to ``volume``: volumeName, annotations, status Bound with capacity."""
    out = copy.deepcopy(claim)
    cmeta = out.setdefault("metadata", {})
    notes = cmeta.setdefault("annotations", {})
    notes[BIND_COMPLETED] = "yes"
    notes[BOUND_BY_CONTROLLER] = "yes"
    if provisioned:
        notes[STORAGE_PROVISIONER] = PROVISIONER
    out.setdefault("spec", {})["volumeName"] = meta(volume).get("name", "")
    vspec = volume.get("spec") or {}
    out["status"] = {
        "phase": "Bound",
        "accessModes": list(vspec.get("accessModes") or []),
        "capacity": dict(vspec.get("capacity") or {}),
    }
    return out


def _claimed_by(volume: Obj, claim: Obj) -> bool:
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    m = meta(claim)
    return bool(ref) and ref.get("uid") == m.get("uid") and ref.get("name") == m.get("name") and (
        ref.get("namespace") or "default"
    ) == (m.get("namespace") or "default")


def sync_claim(key: str, view: View, now: datetime.datetime, root: str) -> List[Action]:
    item = view.get(key)
    if item is None or meta(item.obj).get("deletionTimestamp"):
        return []
    claim = item.obj
    spec = claim.get("spec") or {}
    status = claim.get("status") or {}
    bound_to = spec.get("volumeName")
    if bound_to:
        vol = view.get(VOLUMES + str(bound_to))
        if vol is None or not _claimed_by(vol.obj, claim):
            if status.get("phase") == "Bound" or status.get("phase") is None:
                lost = dict(claim, status=dict(status, phase="Lost"))
                return [
                    Put(key, lost, item.mod_revision),
                    CreateEvent(claim, "ClaimLost", "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!", events.WARNING, "persistentvolume-controller"),
                ]
            return []
        want = bound_claim(claim, vol.obj, False)
        if status.get("phase") != "Bound":
            return [Put(key, want, item.mod_revision)]
        return []
    sc = storage_class(view, str(spec.get("storageClassName") or ""))
    if not is_local(sc):
        return []  # another provisioner's, or no class: not ours to bind
    assert sc is not None
    node = (meta(claim).get("annotations") or {}).get(SELECTED_NODE)
    if not node:
        return []  # WaitForFirstConsumer: the scheduler chooses the node
    existing = view.get(VOLUMES + volume_name(claim))
    if existing is not None:
        if _claimed_by(existing.obj, claim):  # made before, the claim not yet bound
            return [Put(key, bound_claim(claim, existing.obj, True), item.mod_revision)]
        return []
    volume = new_volume(claim, sc, str(node), root)
    return [
        Create(VOLUMES, volume),
        Put(key, bound_claim(claim, volume, True), item.mod_revision),
        CreateEvent(
            claim,
            "ProvisioningSucceeded",
            "Successfully provisioned volume %s on node %s" % (volume_name(claim), node),
            events.NORMAL,
            COMPONENT,
        ),
    ]


def sync_volume(key: str, view: View, now: datetime.datetime) -> List[Action]:
    """Bound while its claim exists; Released once it is gone (the agent reclaims it)."""
    item = view.get(key)
    if item is None or meta(item.obj).get("deletionTimestamp"):
        return []
    volume = item.obj
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    phase = (volume.get("status") or {}).get("phase")
    if not ref.get("name"):
        want = "Available"
    else:
        claim = view.get("%s%s/%s" % (CLAIMS, ref.get("namespace") or "default", ref.get("name")))
        if claim is not None and (not ref.get("uid") or meta(claim.obj).get("uid") == ref.get("uid")):
            want = "Bound"
        else:
            want = "Released"
    if phase == want or (phase in ("Released", "Failed") and want != "Available"):
        return []  # a Released volume never becomes Bound again by itself (as Kubernetes)
    return [Put(key, dict(volume, status=dict(volume.get("status") or {}, phase=want)), item.mod_revision)]


# -- which keys to sync again ---------------------------------------------------------------

def related_claims(change: Change, view: View) -> List[str]:
    """A claim: itself. A volume: the claim it names. A class: every unbound claim."""
    if change.key.startswith(CLAIMS):
        return [change.key]
    keys: List[str] = []
    if change.key.startswith(VOLUMES):
        for version in (change.old, change.new):
            ref = ((version.obj.get("spec") or {}).get("claimRef") or {}) if version is not None else {}
            if ref.get("name"):
                k = "%s%s/%s" % (CLAIMS, ref.get("namespace") or "default", ref.get("name"))
                if k not in keys:
                    keys.append(k)
        return keys
    return [i.key for i in view.list(CLAIMS) if not (i.obj.get("spec") or {}).get("volumeName")]


def related_volumes(change: Change, view: View) -> List[str]:
    """A volume: itself. A claim: the volumes that name it."""
    if change.key.startswith(VOLUMES):
        return [change.key]
    keys: List[str] = []
    if change.key.startswith(CLAIMS):
        namespace, _, name = change.key[len(CLAIMS):].partition("/")
        for v in view.list(VOLUMES):
            ref = (v.obj.get("spec") or {}).get("claimRef") or {}
            if ref.get("name") == name and (ref.get("namespace") or "default") == namespace:
                keys.append(v.key)
    return keys


def make_controllers(root: str = DEFAULT_ROOT) -> Tuple[Controller, Controller]:
    """The provisioner (claims) and the releaser (volumes), with the volumes' root."""

    def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
        return sync_claim(key, view, now, root)

    provisioner = Controller(
        name="localvolumes",
        primary=CLAIMS,
        watches=(CLAIMS, VOLUMES, CLASSES),
        sync=sync,
        related=related_claims,
        workers=1,
    )
    releaser = Controller(
        name="localvolume-release",
        primary=VOLUMES,
        watches=(VOLUMES, CLAIMS),
        sync=sync_volume,
        related=related_volumes,
        workers=1,
    )
    return provisioner, releaser


CONTROLLER, RELEASE_CONTROLLER = make_controllers(DEFAULT_ROOT)


def with_root(controllers: List[Controller], root: str) -> List[Controller]:
    """``controllers`` with the provisioner rebuilt for ``root`` (the daemon's config)."""
    provisioner, _ = make_controllers(root)
    return [provisioner if c.name == provisioner.name else c for c in controllers]
