"""The FailedScheduling message, in Kubernetes' words and order.

Why exact: users paste it into searches and compare it with kubectl's. Kubernetes
(pkg/scheduler, FitError.Error) counts each reason once per node it rejected, formats
"<count> <reason>", sorts those strings as plain strings (so "10 ..." sorts before
"2 ...") and joins them: "0/3 nodes are available: 1 node(s) had untolerated taint
{node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu."
"""

from typing import Mapping

NO_NODES = "no nodes available to schedule pods"


def fit_error(total_nodes: int, reasons: Mapping[str, int]) -> str:
    """The message for a pod no node accepts; `reasons` maps reason -> number of nodes."""
    if total_nodes == 0:
        return NO_NODES
    parts = sorted("%d %s" % (count, reason) for reason, count in reasons.items() if count)
    return "0/%d nodes are available: %s." % (total_nodes, ", ".join(parts))


def prefilter_error(total_nodes: int, problem: str) -> str:
    """A pod rejected before any node is looked at (Kubernetes' PreFilter form)."""
    if total_nodes == 0:
        return NO_NODES
    return "0/%d nodes are available: %s." % (total_nodes, problem)
