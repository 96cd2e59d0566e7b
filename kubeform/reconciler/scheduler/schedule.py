"""The scheduler's entry point: a Snapshot of nodes and their pods that places one pod at a time.

Why a snapshot: the scheduling controller builds it from its informer cache, asks where
each pending pod goes, and calls ``assume`` after each binding so the next decision sees
that pod's load without rereading anything (Kubernetes' assumed pods). Pure: no clock,
no I/O; the same nodes, pods and sequence of calls give the same decisions.

A decision filters the nodes (filters.py), scores the ones that pass (scores.py) and
takes the best; beyond 100 nodes it stops after a share of them, as Kubernetes does
(``nodes_to_find``). Node-only filters (readiness, cordon, taints, affinity) depend on the
pod's template, not its name, so their outcome is kept per template until the nodes
change: the next replica only re-checks ports and resources.
"""

from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from . import filters, message, scores
from .nodeinfo import NodeInfo, PodEntry, SpreadKey, pod_entry, pod_identity
from .pending import loads_node
from .podview import PodView, pod_view
from .resources import InvalidPod

Obj = Dict[str, Any]

SCHEDULED = "Scheduled"
UNSCHEDULABLE = "Unschedulable"
_STATIC_CACHE_LIMIT = 1024
_NONE: Set[str] = set()
MIN_NODES_TO_FIND = 100
MIN_PERCENTAGE = 5


def nodes_to_find(total: int) -> int:
    """How many feasible nodes to score: all of them up to 100 nodes, then a share that
    shrinks from 50 % to 5 % as the cluster grows (at least 100).

    Why: Kubernetes' adaptive percentageOfNodesToScore. Scoring every node of a large
    cluster for every pod buys little placement quality for a lot of time; the next search
    starts where this one stopped, so every node gets its turn. Small clusters (every
    kubeform site so far) are always searched in full.
    """
    if total < MIN_NODES_TO_FIND:
        return total
    percentage = max(MIN_PERCENTAGE, 50 - total // 125)
    return max(MIN_NODES_TO_FIND, total * percentage // 100)


class Decision(NamedTuple):
    """Where the pod goes (None: nowhere), the PodScheduled reason and the event message."""

    node: Optional[str]
    reason: str
    message: str


class Snapshot(object):
    """Nodes (as kubeform.api.nodes.node_view returns them) and the pods that load them."""

    def __init__(self, nodes: Iterable[Obj], pods: Iterable[Obj]) -> None:
        infos = [NodeInfo(n) for n in nodes]
        infos.sort(key=lambda n: n.name)
        self._nodes = infos
        self._by_name: Dict[str, NodeInfo] = {n.name: n for n in infos}
        self._placed: Dict[str, Tuple[str, PodEntry]] = {}  # pod_identity -> (node, entry)
        self._next_start = 0
        # spread key -> names of the nodes holding such pods; nodes with PreferNoSchedule taints
        self._siblings: Dict[SpreadKey, Set[str]] = {}
        self._prefer_names = {n.name for n in infos if n.prefer_no_schedule}
        self._static: Dict[str, Tuple[List[NodeInfo], Dict[str, int]]] = {}
        for pod in pods:
            if loads_node(pod):
                self._add(pod_identity(pod), str(pod["spec"]["nodeName"]), pod_entry(pod))

    @property
    def node_names(self) -> List[str]:
        return [n.name for n in self._nodes]

    def node(self, name: str) -> Optional[NodeInfo]:
        return self._by_name.get(name)

    # -- load bookkeeping ------------------------------------------------------------------

    def _add(self, key: str, node_name: str, entry: PodEntry) -> None:
        self._drop(key)
        info = self._by_name.get(node_name)
        if info is None:
            return  # bound to a node this snapshot does not know: nothing to load
        info.add(entry)
        self._placed[key] = (node_name, entry)
        if entry.spread is not None:
            self._siblings.setdefault(entry.spread, set()).add(node_name)

    def _drop(self, key: str) -> None:
        old = self._placed.pop(key, None)
        if old is not None:
            name, entry = old
            info = self._by_name[name]
            info.remove(entry)
            if entry.spread is not None and entry.spread not in info.spread:
                names = self._siblings.get(entry.spread)
                if names is not None:
                    names.discard(name)
                    if not names:
                        del self._siblings[entry.spread]

    def assume(self, pod: Obj, node: str) -> None:
        """Count `pod` on `node` from now on (after binding it there); moves it if known."""
        if node not in self._by_name:
            raise KeyError("unknown node %r" % node)
        self._add(pod_identity(pod), node, pod_entry(pod))

    def observe(self, pod: Obj) -> None:
        """Take in a pod as the cache now shows it (an informer event): counted on its node
        while it loads one (bound, not finished), not counted otherwise."""
        if loads_node(pod):
            node = str(pod["spec"]["nodeName"])
            if node in self._by_name:
                self._add(pod_identity(pod), node, pod_entry(pod))
                return
        self._drop(pod_identity(pod))

    def forget(self, pod: Obj) -> None:
        """Stop counting `pod` (it is gone or finished)."""
        self._drop(pod_identity(pod))

    # -- one decision ----------------------------------------------------------------------

    def _node_filtered(self, pod: PodView) -> Tuple[List[NodeInfo], Dict[str, int]]:
        cached = self._static.get(pod.static_key)
        if cached is not None:
            return cached
        passed: List[NodeInfo] = []
        rejected: Dict[str, int] = {}
        for node in self._nodes:
            for f in filters.NODE_FILTERS:
                reason = f(pod, node)
                if reason is not None:
                    rejected[reason] = rejected.get(reason, 0) + 1
                    break
            else:
                passed.append(node)
        if len(self._static) >= _STATIC_CACHE_LIMIT:
            self._static.clear()
        self._static[pod.static_key] = (passed, rejected)
        return passed, rejected

    def search(self, pod: PodView, enough: Optional[int] = None) -> Tuple[Optional[NodeInfo], Dict[str, int]]:
        """The best feasible node, and for the nodes that failed how many per reason.

        With `enough`, stops once that many nodes passed, starting where the previous
        search stopped (Kubernetes' percentageOfNodesToScore; see ``nodes_to_find``).

        The hot path (hundreds of nodes per decision), so filters and scores are written out
        in one loop; the same sums as filters.reasons and scores.scored, which the tests
        check it against: the remaining filters (ports, resources) on the nodes that pass
        the cached node-only filters, then the least-requested score, kept per node and pod
        size until that node's load changes, plus FULL_MARKS for spreading and taints, except
        on the few nodes that hold siblings or PreferNoSchedule taints, scored at the end.
        """
        candidates, node_rejected = self._node_filtered(pod)
        rejected = dict(node_rejected)
        req = pod.requests
        # a zero request fits even an overcommitted node (Kubernetes skips the check)
        cpu = req.cpu or -(1 << 62)
        memory = req.memory or -(1 << 62)
        ports = pod.ports
        size = scores.size_key(pod)
        full = scores.FULL_MARKS
        siblings = self._siblings.get(pod.spread, _NONE) if pod.spread is not None else _NONE
        prefer = self._prefer_names
        special: List[NodeInfo] = []
        winner: Optional[NodeInfo] = None
        top = -1
        name = ""
        wanted = -1 if enough is None else enough
        count = len(candidates)
        start = self._next_start % count if count and enough is not None else 0
        examined = 0
        for node in candidates[start:] + candidates[:start] if start else candidates:
            examined += 1
            if (
                node.free_pods > 0
                and cpu <= node.free_cpu
                and memory <= node.free_memory
                and not (ports and node.ports and filters.free_ports(pod, node))
            ):
                lr = node.scores.get(size)
                if lr is None:
                    lr = node.scores[size] = scores.LEAST_REQUESTED_WEIGHT * scores.least_requested(pod, node)
                if node.name in siblings or node.name in prefer:
                    node.bonus = lr
                    special.append(node)
                else:
                    total = lr + full
                    if total > top or (total == top and node.name < name):
                        winner, top, name = node, total, node.name
                wanted -= 1
                if wanted == 0:
                    break
                continue
            for reason in filters.reasons(pod, node):
                rejected[reason] = rejected.get(reason, 0) + 1
        if enough is not None:
            self._next_start = start + examined
        if special:
            points = scores.bonuses(pod, special)
            for node in special:
                total = node.bonus + points.get(node.name, full)
                if total > top or (total == top and node.name < name):
                    winner, top, name = node, total, node.name
        return winner, rejected

    def schedule(self, pod: Obj) -> Decision:
        """Where `pod` should run; does not count it (call ``assume`` once it is bound)."""
        total = len(self._nodes)
        try:
            view = pod_view(pod)
        except InvalidPod as exc:
            return Decision(None, UNSCHEDULABLE, message.prefilter_error(total, str(exc)))
        if not total:
            return Decision(None, UNSCHEDULABLE, message.NO_NODES)
        placed = self._placed.get(pod_identity(pod))
        if placed is not None:
            # assumed already (its binding not yet seen back): never place a pod twice
            return Decision(placed[0], SCHEDULED, "Successfully assigned %s to %s" % (view.key, placed[0]))
        winner, rejected = self.search(view, nodes_to_find(total))
        if winner is None:
            return Decision(None, UNSCHEDULABLE, message.fit_error(total, rejected))
        return Decision(winner.name, SCHEDULED, "Successfully assigned %s to %s" % (view.key, winner.name))
