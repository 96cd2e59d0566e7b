"""Helpers on stored objects that the CLI, the reconciler and the agents all need.

Owner references (who controls an object, as the garbage collector and the controllers
read them), pod conditions, and the pod-template hash that names a Deployment's
ReplicaSets. Pure and stdlib-only (Python 3.6) so every side computes the same answer.
"""

import datetime
import json
from typing import Any, Dict, List, Optional

from .nodes import parse_time

Obj = Dict[str, Any]

#: Kubernetes' alphabet for names made from numbers (no vowels, no look-alike digits).
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
TERMINAL_PHASES = ("Succeeded", "Failed")


def meta(obj: Obj) -> Obj:
    """The object's metadata (an empty dict when it has none)."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def namespaced_name(obj: Obj) -> str:
    m = meta(obj)
    return "%s/%s" % (m.get("namespace") or "default", m.get("name", ""))


def controller_ref(obj: Obj) -> Optional[Obj]:
    """The ownerReference with controller: true, if any (at most one may exist)."""
    for ref in meta(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller"):
            return ref
    return None


def is_controlled_by(obj: Obj, owner: Obj) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == meta(owner).get("uid")


def new_controller_ref(owner: Obj) -> Obj:
    """The ownerReference a controller puts on what it creates (blockOwnerDeletion as upstream)."""
    m = meta(owner)
    return {
        "apiVersion": owner.get("apiVersion", "v1"),
        "kind": owner.get("kind", ""),
        "name": m.get("name", ""),
        "uid": m.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def condition(obj: Obj, kind: str) -> Optional[Obj]:
    """The status condition of type ``kind``, or None."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def set_condition(conditions: List[Obj], new: Obj, now: str) -> List[Obj]:
    """Conditions with ``new`` in place of its type; lastTransitionTime moves only on a change."""
    out = []  # type: List[Obj]
    found = False
    for cond in conditions:
        if cond.get("type") != new.get("type"):
            out.append(cond)
            continue
        found = True
        merged = dict(new)
        same = cond.get("status") == new.get("status")
        merged["lastTransitionTime"] = cond.get("lastTransitionTime", now) if same else now
        out.append(merged)
    if not found:
        merged = dict(new)
        merged.setdefault("lastTransitionTime", now)
        out.append(merged)
    return out


def pod_is_terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in TERMINAL_PHASES


def pod_is_ready(pod: Obj) -> bool:
    cond = condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def pod_is_available(pod: Obj, min_ready_seconds: int, now: datetime.datetime) -> bool:
    """Ready for at least ``min_ready_seconds`` at ``now`` (an aware datetime), as
    Kubernetes' IsPodAvailable: with 0 every ready pod is available at once."""
    cond = condition(pod, "Ready")
    if cond is None or cond.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    if since is None:
        return False
    return (now - since).total_seconds() >= min_ready_seconds


def ready_since(pod: Obj) -> Optional[datetime.datetime]:
    """When the pod's Ready condition last changed (aware datetime), or None."""
    cond = condition(pod, "Ready")
    return parse_time(str((cond or {}).get("lastTransitionTime") or ""))


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, the hash Kubernetes names ReplicaSets and ControllerRevisions with."""
    h = 0x811C9DC5
    for byte in bytearray(data):
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def safe_encode(number: int) -> str:
    """Kubernetes' SafeEncodeString of the decimal number: each character's code point
    taken modulo the alphabet's length (so '0' -> '4', '1' -> '5', as upstream)."""
    return "".join(SAFE_ALPHABET[ord(ch) % len(SAFE_ALPHABET)] for ch in str(number))


def pod_template_hash(template: Obj, collision_count: Optional[int] = None) -> str:
    """The ``pod-template-hash`` label value of a pod template.

    Kubernetes hashes the Go struct's printed form; kubeform hashes canonical JSON (sorted
    keys, no spaces) the same way (FNV-1a 32, then the collision count, then the safe
    alphabet). Names therefore look like Kubernetes' and are stable across kubeform
    versions and hosts, but are not byte-identical to a real cluster's.
    """
    text = json.dumps(template, sort_keys=True, separators=(",", ":")).encode("utf-8")
    if collision_count is not None:
        text += str(collision_count).encode("ascii")
    return safe_encode(fnv32a(text))
