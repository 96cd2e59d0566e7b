"""Which pods the scheduler must place, and which ones load a node.

Why here: the scheduling controller and the Snapshot must agree on both, or a pod would
be placed twice or a node's load miscounted.
"""

from typing import Any, Dict

Obj = Dict[str, Any]

SCHEDULER_NAMES = ("default-scheduler", "kubeform")
TERMINAL_PHASES = ("Succeeded", "Failed")


def needs_scheduling(pod: Obj) -> bool:
    """Not bound, not being deleted, not finished, and addressed to this scheduler."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return False
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    if (pod.get("status") or {}).get("phase") in TERMINAL_PHASES:
        return False
    name = spec.get("schedulerName")
    return not name or name in SCHEDULER_NAMES


def loads_node(pod: Obj) -> bool:
    """Bound and not finished: its requests and ports count against its node.

    A pod being deleted still counts: its containers run until the agent stops them.
    """
    if not (pod.get("spec") or {}).get("nodeName"):
        return False
    return (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES
