"""How `kubeform delete` removes a pod: gracefully when a node runs it, as Kubernetes does.

Why: a bound pod's containers run on its node; yanking the key would leave them running
with no object to account for them. So a bound pod is only marked (deletionTimestamp =
now + grace, deletionGracePeriodSeconds = grace) in one transaction on its mod_revision;
the node's agent sends SIGTERM, waits the grace period, kills, tears the sandbox down and
removes the key. Pods no node runs (unbound, or already Succeeded/Failed) go at once, as
the apiserver does. ``--force --grace-period=0`` removes the key at once (kubectl's force
deletion). Pure: the clock comes in as ``now``.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

#: spec.terminationGracePeriodSeconds when the pod does not set it (Kubernetes' default).
DEFAULT_GRACE = 30
#: kubectl's warning for a force deletion (printed on stderr).
FORCE_WARNING = (
    "Warning: Immediate deletion does not wait for confirmation that the running resource "
    "has been terminated. The resource may continue to run on the cluster indefinitely."
)


@dataclass(frozen=True)
class PodDeletion:
    """The decision: remove the key now, or write ``pod`` (marked); ``grace`` in seconds."""

    remove: bool
    pod: Obj | None
    grace: int


def requested_grace(grace_period: int, *, force: bool, now_flag: bool = False) -> int | None:
    """kubectl's flags as one number: None = the pod's own period, 0 = immediate.

    ``--grace-period`` -1 (the default) means the pod's period; ``--now`` means 1; 0 is
    only honoured with ``--force`` (otherwise 1, as kubectl); ``--force`` alone means 0.
    """
    if now_flag:
        return 1
    if grace_period < 0:
        return 0 if force else None
    if grace_period == 0 and not force:
        return 1
    return grace_period


def pod_grace(pod: Obj) -> int:
    """spec.terminationGracePeriodSeconds, or the default."""
    value = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else DEFAULT_GRACE


def _iso(t: datetime.datetime) -> str:
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_pod_deletion(pod: Obj, *, now: datetime.datetime, grace: int | None = None) -> PodDeletion:
    """What deleting ``pod`` does; ``grace`` from requested_grace (None: the pod's own).

    A pod already terminating keeps its deadline unless the new one is sooner (the
    apiserver only ever shortens a grace period).
    """
    spec = pod.get("spec") or {}
    phase = (pod.get("status") or {}).get("phase")
    seconds = pod_grace(pod) if grace is None else grace
    if seconds == 0 or not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
        return PodDeletion(True, None, 0)
    meta = pod.get("metadata") or {}
    current = meta.get("deletionGracePeriodSeconds")
    if meta.get("deletionTimestamp") and isinstance(current, int) and current <= seconds:
        return PodDeletion(False, None, current)
    new = copy.deepcopy(pod)
    new_meta = new.setdefault("metadata", {})
    new_meta["deletionTimestamp"] = _iso(now + datetime.timedelta(seconds=seconds))
    new_meta["deletionGracePeriodSeconds"] = seconds
    return PodDeletion(False, new, seconds)
