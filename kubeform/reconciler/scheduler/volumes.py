"""Where a pod's persistent volumes let it go (Kubernetes' VolumeBinding plugin, in small).

Why: a local volume is a directory on one node, so a pod using it must run there, and a
claim that is not yet bound must be bound where the pod goes. For each
``persistentVolumeClaim`` volume of the pod:

- the claim must exist and not be being deleted (else the pod is refused before any node
  is looked at, in Kubernetes' words: ``persistentvolumeclaim "data" not found``);
- a bound claim (spec.volumeName) pins the pod to its volume's node affinity (a volume
  without one goes anywhere; a volume that is gone refuses the pod);
- an unbound claim already given a node (annotation volume.kubernetes.io/selected-node,
  written when its first pod was bound) pins the pod to that node;
- an unbound claim of a WaitForFirstConsumer class lets the pod go anywhere: it is listed
  in ``select`` and the scheduler writes the chosen node on it with the binding (the
  provisioner then makes the volume there);
- any other unbound claim refuses the pod: "pod has unbound immediate PersistentVolumeClaims".

Pure: claims, volumes and binding modes come in as lookups.
"""

from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from .podview import Term, selector_terms

Obj = Dict[str, Any]

SELECTED_NODE = "volume.kubernetes.io/selected-node"
WAIT_FOR_FIRST_CONSUMER = "WaitForFirstConsumer"
UNBOUND_IMMEDIATE = "pod has unbound immediate PersistentVolumeClaims"
PV_MISSING = "pvc(s) bound to non-existent pv(s)"


class VolumeCheck(NamedTuple):
    """terms: one tuple of node terms per pinned volume; error: why no node will do
    ("" if none); select: names of claims to give the chosen node at binding."""

    terms: Tuple[Tuple[Term, ...], ...]
    error: str
    select: Tuple[str, ...]


NO_VOLUMES = VolumeCheck((), "", ())


def node_term(node: str) -> Term:
    """The term that matches one node by name."""
    return ((), (("metadata.name", "In", (node,)),))


def claim_names(pod: Obj) -> List[str]:
    out: List[str] = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = ((volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
        if name and name not in out:
            out.append(str(name))
    return out


def check(
    pod: Obj,
    claim: Callable[[str], Optional[Obj]],
    volume: Callable[[str], Optional[Obj]],
    binding_mode: Callable[[str], Optional[str]],
) -> VolumeCheck:
    """The pod's volume constraints: ``claim(name)`` in the pod's namespace, ``volume(name)``,
    ``binding_mode(storage class name)`` (None: no such class)."""
    names = claim_names(pod)
    if not names:
        return NO_VOLUMES
    terms: List[Tuple[Term, ...]] = []
    select: List[str] = []
    unbound_immediate = False
    for name in names:
        obj = claim(name)
        if obj is None:
            return VolumeCheck((), 'persistentvolumeclaim "%s" not found' % name, ())
        if (obj.get("metadata") or {}).get("deletionTimestamp"):
            return VolumeCheck((), 'persistentvolumeclaim "%s" is being deleted' % name, ())
        spec = obj.get("spec") or {}
        bound = spec.get("volumeName")
        if bound:
            pv = volume(str(bound))
            if pv is None:
                return VolumeCheck((), PV_MISSING, ())
            required = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required")) or None
            if required is not None:
                terms.append(selector_terms(required))
            continue
        node = ((obj.get("metadata") or {}).get("annotations") or {}).get(SELECTED_NODE)
        if node:
            terms.append((node_term(str(node)),))
            continue
        if binding_mode(str(spec.get("storageClassName") or "")) == WAIT_FOR_FIRST_CONSUMER:
            select.append(name)
        else:
            unbound_immediate = True
    if unbound_immediate:
        return VolumeCheck((), UNBOUND_IMMEDIATE, ())
    return VolumeCheck(tuple(terms), "", tuple(select))
