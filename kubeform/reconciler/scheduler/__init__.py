"""The scheduler: places pods without spec.nodeName on nodes (pure; see schedule.py).

Used by the reconciler's scheduling controller:

    snap = Snapshot(node_views, pods)          # nodes through kubeform.api.nodes.node_view
    for pod in pending:                        # pods for which needs_scheduling(pod)
        d = snap.schedule(pod)                 # Decision(node, reason, message)
        if d.node: bind, then snap.assume(pod, d.node)
        else: PodScheduled=False, reason d.reason, message d.message
    snap.observe(pod) / snap.forget(pod)       # later pod events, instead of a rebuild

Keep one Snapshot while the nodes stay the same: building one costs O(pods + nodes), a
decision on a kept one looks at a handful of nodes (docs/scheduler.md).
"""

from .pending import loads_node, needs_scheduling
from .schedule import Decision, Snapshot

__all__ = ["Decision", "Snapshot", "loads_node", "needs_scheduling"]
