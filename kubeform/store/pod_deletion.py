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

import datetime
from dataclasses import dataclass
from typing import Any

from kubeform.api import deletion

Obj = dict[str, Any]

#: spec.terminationGracePeriodSeconds when the pod does not set it (Kubernetes' default).
DEFAULT_GRACE = deletion.DEFAULT_GRACE
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
    return deletion.pod_grace(pod)


def plan_pod_deletion(pod: Obj, *, now: datetime.datetime, grace: int | None = None) -> PodDeletion:
    """What deleting ``pod`` does; ``grace`` from requested_grace (None: the pod's own).

    A pod already terminating keeps its deadline unless the new one is sooner (the
    apiserver only ever shortens a grace period). The rule is kubeform.api.deletion's,
    which the reconciler's controllers share.
    """
    decision = deletion.delete_pod(pod, now, grace)
    seconds = deletion.pod_grace(pod) if grace is None else grace
    if decision.remove:
        return PodDeletion(True, None, 0)
    if decision.obj is None:
        return PodDeletion(False, None, int((pod.get("metadata") or {}).get("deletionGracePeriodSeconds") or 0))
    return PodDeletion(False, decision.obj, seconds)
