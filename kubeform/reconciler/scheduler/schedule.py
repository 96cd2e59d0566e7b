"""The scheduler's entry point: a Snapshot of nodes and their pods that places one pod at a time.

Why a snapshot: the scheduling controller builds it from its informer cache, asks where
each pending pod goes, and calls ``assume`` after each binding so the next decision sees
that pod's load without rereading anything (Kubernetes' assumed pods). Pure: no clock,
no I/O; the same nodes, pods and sequence of calls give the same decisions.

A decision takes the best of every node that passes the filters (filters.py) by the
weighted scores (scores.py). Node-only filters (readiness, cordon, taints, affinity)
depend on the pod's template, not its name, so their outcome is kept per template until
the nodes change; the ranking by least-requested score is kept per pod shape (index.py),
so a decision usually looks at a handful of nodes, not all of them. When that shortcut
finds nothing or gives up, one plain pass over every node decides and counts the reasons.
"""

from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

from . import filters, message, scores
from .index import ShapeIndex, score
from .nodeinfo import NodeInfo, PodEntry, SpreadKey, pod_entry, pod_identity
from .pending import loads_node
from .podview import PodView, pod_view
from .resources import InvalidPod
from .volumes import VolumeCheck

Obj = Dict[str, Any]

SCHEDULED = "Scheduled"
UNSCHEDULABLE = "Unschedulable"
_STATIC_CACHE_LIMIT = 1024
_INDEX_LIMIT = 256  # pod shapes with a ShapeIndex (each holds an entry per node)
_NONE: Set[str] = set()


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
        self._indexes: Dict[Tuple[str, str], ShapeIndex] = {}
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
            for index in self._indexes.values():
                index.raised(info)
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

    def search(self, pod: PodView) -> Tuple[Optional[NodeInfo], Dict[str, int]]:
        """The best feasible node, and for the nodes that failed how many per reason.

        One pass over every node: the remaining filters (ports, resources) on the nodes that
        pass the cached node-only filters, then the least-requested score plus FULL_MARKS for
        spreading and taints, except on the few nodes that hold siblings or PreferNoSchedule
        taints, scored at the end. The same sums as filters.reasons and scores.scored, which
        the tests check it against.
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
        marked = self._marked(pod)
        special: List[NodeInfo] = []
        winner: Optional[NodeInfo] = None
        top = -1
        name = ""
        for node in candidates:
            if (
                node.free_pods > 0
                and cpu <= node.free_cpu
                and memory <= node.free_memory
                and not (ports and node.ports and filters.free_ports(pod, node))
                and not (pod.volume_terms and filters.volume_affinity(pod, node))
            ):
                lr = score(pod, size, node)
                if node.name in marked:
                    node.bonus = lr
                    special.append(node)
                else:
                    total = lr + full
                    if total > top or (total == top and node.name < name):
                        winner, top, name = node, total, node.name
                continue
            for reason in filters.reasons(pod, node):
                rejected[reason] = rejected.get(reason, 0) + 1
        if special:
            points = scores.bonuses(pod, special)
            for node in special:
                total = node.bonus + points.get(node.name, full)
                if total > top or (total == top and node.name < name):
                    winner, top, name = node, total, node.name
        return winner, rejected

    def _marked(self, pod: PodView) -> Set[str]:
        """Nodes that may miss FULL_MARKS: holding siblings of `pod` or PreferNoSchedule taints."""
        siblings = self._siblings.get(pod.spread, _NONE) if pod.spread is not None else _NONE
        prefer = self._prefer_names
        return siblings | prefer if siblings and prefer else siblings or prefer

    def _indexed(self, pod: PodView) -> Optional[NodeInfo]:
        """The decision through the pod shape's index (index.py); None when it finds no node
        or gives up (then ``search`` decides and says why)."""
        candidates, _ = self._node_filtered(pod)
        if not candidates:
            return None
        size = scores.size_key(pod)
        index = self._indexes.get((size, pod.static_key))
        if index is None:
            if len(self._indexes) >= _INDEX_LIMIT:
                self._indexes.clear()
            index = self._indexes[(size, pod.static_key)] = ShapeIndex(pod, size, candidates)
        req = pod.requests
        cpu = req.cpu or -(1 << 62)
        memory = req.memory or -(1 << 62)
        ports = pod.ports

        def fits(node: NodeInfo) -> bool:
            return (
                node.free_pods > 0
                and cpu <= node.free_cpu
                and memory <= node.free_memory
                and not (ports and node.ports and filters.free_ports(pod, node))
                and not (pod.volume_terms and filters.volume_affinity(pod, node))
            )

        marked = self._marked(pod)
        winner, complete = index.best(fits, marked)
        if not complete:
            return None
        top = -1 if winner is None else score(pod, size, winner) + scores.FULL_MARKS
        special = [index.by_name[n] for n in marked if n in index.by_name and fits(index.by_name[n])]
        if special:
            points = scores.bonuses(pod, special)
            for node in special:
                total = score(pod, size, node) + points.get(node.name, scores.FULL_MARKS)
                if total > top or (total == top and winner is not None and node.name < winner.name):
                    winner, top = node, total
        return winner

    def schedule(self, pod: Obj, volumes: Optional[VolumeCheck] = None) -> Decision:
        """Where `pod` should run; does not count it (call ``assume`` once it is bound).

        ``volumes``: its persistent volumes as scheduler/volumes.py checked them (a claim
        that cannot be used refuses the pod before any node is looked at)."""
        total = len(self._nodes)
        if volumes is not None and volumes.error:
            return Decision(None, UNSCHEDULABLE, message.prefilter_error(total, volumes.error))
        try:
            view = pod_view(pod, volumes.terms if volumes is not None else ())
        except InvalidPod as exc:
            return Decision(None, UNSCHEDULABLE, message.prefilter_error(total, str(exc)))
        if not total:
            return Decision(None, UNSCHEDULABLE, message.NO_NODES)
        placed = self._placed.get(pod_identity(pod))
        if placed is not None:
            # assumed already (its binding not yet seen back): never place a pod twice
            return Decision(placed[0], SCHEDULED, "Successfully assigned %s to %s" % (view.key, placed[0]))
        winner = self._indexed(view)
        if winner is not None:
            return Decision(winner.name, SCHEDULED, "Successfully assigned %s to %s" % (view.key, winner.name))
        winner, rejected = self.search(view)
        if winner is None:
            return Decision(None, UNSCHEDULABLE, message.fit_error(total, rejected))
        return Decision(winner.name, SCHEDULED, "Successfully assigned %s to %s" % (view.key, winner.name))
