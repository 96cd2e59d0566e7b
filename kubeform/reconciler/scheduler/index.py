"""A best-first index of nodes by least-requested score, so a decision need not visit every node.

Why: with 1,000 nodes a decision that scores every node costs about a millisecond in
Python. But between two decisions only the node that got the last pod changed, so the
ranking can be kept: one heap per pod shape (its node-only filters and its non-zero
request), ordered by (least-requested score, node name). A decision pops from the top
until it meets a node that fits and holds no siblings nor PreferNoSchedule taints (those
all score full marks on spreading and taints, so the first one is the best of them); the
few nodes that hold siblings or such taints are scored apart (Snapshot.schedule).

Kept current cheaply: placing a pod only lowers its node's score, so the node's old entry
is merely too high and is replaced when it reaches the top (lazy); removing a pod raises
it, so the node gets a fresh entry at once (``raised``).
"""

import heapq
from typing import Callable, Container, Dict, List, Optional, Tuple

from .nodeinfo import NodeInfo
from .podview import PodView
from .scores import LEAST_REQUESTED_WEIGHT, least_requested

# (-score, node name, node version)
Entry = Tuple[int, str, int]

#: Nodes set aside (they do not fit) before a decision gives up and scans every node.
MAX_SET_ASIDE = 64


def score(pod: PodView, size: str, node: NodeInfo) -> int:
    """The node's weighted least-requested score for pods of `size`, cached on the node."""
    value = node.scores.get(size)
    if value is None:
        value = node.scores[size] = LEAST_REQUESTED_WEIGHT * least_requested(pod, node)
    return value


class ShapeIndex(object):
    """The nodes that pass one pod shape's node-only filters, best least-requested first."""

    __slots__ = ("by_name", "fresh", "heap", "pod", "size")

    def __init__(self, pod: PodView, size: str, nodes: List[NodeInfo]) -> None:
        self.pod = pod  # any pod of the shape: least_requested reads only its size
        self.size = size
        self.by_name: Dict[str, NodeInfo] = {n.name: n for n in nodes}
        self.fresh: Dict[str, int] = {}  # node -> version of its newest entry
        self.heap: List[Entry] = []
        self._rebuild()

    def _rebuild(self) -> None:
        self.heap = [(-score(self.pod, self.size, n), n.name, n.version) for n in self.by_name.values()]
        heapq.heapify(self.heap)
        self.fresh = {n.name: n.version for n in self.by_name.values()}

    def _push(self, node: NodeInfo) -> None:
        heapq.heappush(self.heap, (-score(self.pod, self.size, node), node.name, node.version))
        self.fresh[node.name] = node.version

    def raised(self, node: NodeInfo) -> None:
        """`node` lost a pod: its score may have gone up, so its entry is renewed now."""
        if node.name in self.by_name and self.fresh.get(node.name) != node.version:
            self._push(node)

    def best(self, fits: Callable[[NodeInfo], bool], marked: Container[str]) -> Tuple[Optional[NodeInfo], bool]:
        """The best node that `fits` and is not in `marked`; False when it gave up (too
        many nodes at the top did not fit: the caller scans instead)."""
        heap = self.heap
        by_name = self.by_name
        aside: List[Entry] = []
        found: Optional[NodeInfo] = None
        complete = True
        while heap:
            entry = heap[0]
            node = by_name[entry[1]]
            if entry[2] != node.version:  # stale: the node changed since
                heapq.heappop(heap)
                if self.fresh.get(node.name) != node.version:
                    self._push(node)
                continue
            if node.name not in marked and fits(node):
                found = node
                break
            aside.append(heapq.heappop(heap))
            if len(aside) > MAX_SET_ASIDE:
                complete = False
                break
        for entry in aside:
            heapq.heappush(heap, entry)
        if len(heap) > 2 * len(by_name) + 64:
            self._rebuild()  # too many stale entries
        return found, complete
