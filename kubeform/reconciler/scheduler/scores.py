"""Scores: among the nodes a pod fits, which is best? Each score is 0..100, higher is better.

Why these three, weighted as Kubernetes' default profile weighs their counterparts:
- least requested (weight 1, NodeResourcesFit/LeastAllocated): the share of cpu and of
  memory left free after placing the pod, averaged, so load evens out; requests here are
  the non-zero ones (a container without requests counts 100m / 200Mi);
- spreading (weight 2, like PodTopologySpread's per-host default): fewer pods of the same
  controller (or, for pods without one, with the same labels) on the node is better,
  scaled against the node that has the most, so replicas do not share a host;
- PreferNoSchedule taints (weight 3, TaintToleration): fewer untolerated ones is better.
The winner is the highest weighted sum; ties go to the node whose name sorts first, so a
decision is reproducible from its input (Kubernetes picks a random one among ties).
"""

from typing import Dict, Iterable, List, Optional, Tuple

from .filters import tolerated
from .nodeinfo import NodeInfo
from .podview import PodView

MAX_SCORE = 100
LEAST_REQUESTED_WEIGHT = 1
SPREAD_WEIGHT = 2
PREFER_NO_SCHEDULE_WEIGHT = 3


def _free_share(requested: int, allocatable: int) -> int:
    if allocatable <= 0 or requested > allocatable:
        return 0
    return (allocatable - requested) * MAX_SCORE // allocatable


def least_requested(pod: PodView, node: NodeInfo) -> int:
    req = pod.requests
    cpu = _free_share(node.nonzero_cpu + req.nonzero_cpu, node.alloc_cpu)
    memory = _free_share(node.nonzero_memory + req.nonzero_memory, node.alloc_memory)
    return (cpu + memory) // 2


def spread(count: int, most: int) -> int:
    """A node with `count` siblings when the fullest feasible node has `most`."""
    if most <= 0:
        return MAX_SCORE
    return MAX_SCORE * (most - count) // most


def untolerated_prefer_no_schedule(pod: PodView, node: NodeInfo) -> int:
    return sum(1 for t in node.taints if t[2] == "PreferNoSchedule" and not tolerated(pod.tolerations, t))


def prefer_no_schedule(count: int, most: int) -> int:
    """Fewer untolerated PreferNoSchedule taints than the worst feasible node is better."""
    if most <= 0:
        return MAX_SCORE
    return MAX_SCORE - MAX_SCORE * count // most


def scored(pod: PodView, nodes: List[NodeInfo]) -> List[Tuple[int, NodeInfo]]:
    """Every feasible node with its weighted score."""
    key = pod.spread
    siblings = [n.spread.get(key, 0) if key is not None else 0 for n in nodes]
    most_siblings = max(siblings) if siblings else 0
    prefer = [untolerated_prefer_no_schedule(pod, n) for n in nodes]
    most_prefer = max(prefer) if prefer else 0
    out: List[Tuple[int, NodeInfo]] = []
    for i, node in enumerate(nodes):
        total = (
            LEAST_REQUESTED_WEIGHT * least_requested(pod, node)
            + SPREAD_WEIGHT * spread(siblings[i], most_siblings)
            + PREFER_NO_SCHEDULE_WEIGHT * prefer_no_schedule(prefer[i], most_prefer)
        )
        out.append((total, node))
    return out


FULL_MARKS = SPREAD_WEIGHT * MAX_SCORE + PREFER_NO_SCHEDULE_WEIGHT * MAX_SCORE


def bonuses(pod: PodView, nodes: Iterable[NodeInfo]) -> Dict[str, int]:
    """Weighted spread + PreferNoSchedule points of the nodes that miss FULL_MARKS.

    Why: only a node holding siblings of the pod or PreferNoSchedule taints can score below
    the maximum on those two, and there are few such nodes; every other feasible node gets
    FULL_MARKS. `nodes` must include every feasible node holding siblings or such taints
    (others may be present): the scaling is against the worst of them, as in ``scored``.
    """
    key = pod.spread
    siblings: Dict[str, int] = {}
    prefer: Dict[str, int] = {}
    for n in nodes:
        if key is not None and n.spread:
            count = n.spread.get(key, 0)
            if count:
                siblings[n.name] = count
        if n.prefer_no_schedule:
            count = untolerated_prefer_no_schedule(pod, n)
            if count:
                prefer[n.name] = count
    most_siblings = max(siblings.values()) if siblings else 0
    most_prefer = max(prefer.values()) if prefer else 0
    out: Dict[str, int] = {}
    for name in set(siblings) | set(prefer):
        out[name] = SPREAD_WEIGHT * spread(siblings.get(name, 0), most_siblings) + (
            PREFER_NO_SCHEDULE_WEIGHT * prefer_no_schedule(prefer.get(name, 0), most_prefer)
        )
    return out


def size_key(pod: PodView) -> str:
    """The key of NodeInfo.scores: the pod's non-zero cpu and memory (a str caches its hash)."""
    return "%d/%d" % (pod.requests.nonzero_cpu, pod.requests.nonzero_memory)


def best(pod: PodView, nodes: List[NodeInfo]) -> Optional[NodeInfo]:
    """The highest weighted score; among equals, the first node name (the plain statement
    of what Snapshot.schedule computes faster)."""
    winner: Optional[NodeInfo] = None
    top = -1
    for total, node in scored(pod, nodes):
        if total > top or (total == top and winner is not None and node.name < winner.name):
            winner, top = node, total
    return winner
