"""Per-node aggregates the filters and scores read: what the node offers and what its pods use.

Why: one decision must not rescan the cluster's pods. Each node's totals (requested cpu
and memory, pod count, host ports in use, pods per spread key) are built once from the
pods bound to it and then changed one pod at a time (``add``/``remove``), so the cost of
a decision grows with the number of nodes, not pods.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api.quantity import QuantityError, amount, cpu_millis

from .resources import HostPort, InvalidPod, PodRequests, host_ports, pod_requests

Obj = Dict[str, Any]
# ("owner", namespace, uid-or-kind/name) or ("labels", namespace, sorted label items)
SpreadKey = Tuple[Any, ...]
# (key, value, effect)
Taint = Tuple[str, str, str]

ZERO = PodRequests(0, 0, 0, 0)


class PodEntry(NamedTuple):
    """What a pod placed on a node contributes to it."""

    requests: PodRequests
    ports: Tuple[HostPort, ...]
    spread: Optional[SpreadKey]


def pod_key(pod: Obj) -> str:
    """namespace/name, as messages name a pod."""
    meta = pod.get("metadata") or {}
    return "%s/%s" % (meta.get("namespace") or "default", meta.get("name") or "")


def pod_identity(pod: Obj) -> str:
    """namespace/name plus the uid when there is one: a pod deleted and created again under
    the same name is another pod (its predecessor's load must not be taken for its own)."""
    uid = (pod.get("metadata") or {}).get("uid")
    return pod_key(pod) + ("#" + str(uid) if uid else "")


def spread_key(pod: Obj) -> Optional[SpreadKey]:
    """Which pods count as siblings for spreading: same controller, else the same labels.

    A pod with neither a controller nor labels has no siblings.
    """
    meta = pod.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return ("owner", namespace, ref.get("uid") or "%s/%s" % (ref.get("kind"), ref.get("name")))
    labels = meta.get("labels") or {}
    if labels:
        return ("labels", namespace, tuple(sorted(labels.items())))
    return None


def pod_entry(pod: Obj) -> PodEntry:
    """The entry of a pod already on a node (unreadable requests count as zero: it is there)."""
    try:
        req = pod_requests(pod)
    except InvalidPod:
        req = ZERO
    return PodEntry(req, tuple(host_ports(pod)), spread_key(pod))


def _allocatable(node: Obj) -> Tuple[int, int, int]:
    status = node.get("status") or {}
    alloc = status.get("allocatable") or status.get("capacity") or {}

    def read(name: str, parse: Any) -> int:
        try:
            return max(0, int(parse(alloc.get(name, 0))))
        except QuantityError:
            return 0

    return read("cpu", cpu_millis), read("memory", amount), read("pods", amount)


def node_ready(node: Obj) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


def node_taints(node: Obj) -> List[Taint]:
    out: List[Taint] = []
    for t in (node.get("spec") or {}).get("taints") or []:
        out.append((str(t.get("key") or ""), str(t.get("value") or ""), str(t.get("effect") or "")))
    return out


def ports_conflict(used: Dict[Tuple[str, int], Dict[str, int]], wanted: Tuple[HostPort, ...]) -> bool:
    """True when a wanted (protocol, hostIP, port) clashes with one in use.

    0.0.0.0 means every address, so it clashes with any IP on the same protocol and port.
    """
    for proto, ip, port in wanted:
        ips = used.get((proto, port))
        if ips and (ip == "0.0.0.0" or "0.0.0.0" in ips or ip in ips):
            return True
    return False


class NodeInfo(object):
    """One node's offer and load (see the module docstring)."""

    __slots__ = (
        "alloc_cpu",
        "alloc_memory",
        "alloc_pods",
        "bonus",
        "cpu",
        "free_cpu",
        "free_memory",
        "free_pods",
        "labels",
        "memory",
        "name",
        "node",
        "nonzero_cpu",
        "nonzero_memory",
        "pods",
        "ports",
        "prefer_no_schedule",
        "ready",
        "scores",
        "spread",
        "taints",
        "unschedulable",
        "version",
    )

    def __init__(self, node: Obj) -> None:
        meta = node.get("metadata") or {}
        self.name = str(meta.get("name") or "")
        self.node = node
        self.labels: Dict[str, str] = dict(meta.get("labels") or {})
        self.ready = node_ready(node)
        self.unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
        self.taints = node_taints(node)
        self.prefer_no_schedule = any(t[2] == "PreferNoSchedule" for t in self.taints)
        self.alloc_cpu, self.alloc_memory, self.alloc_pods = _allocatable(node)
        self.cpu = 0
        self.memory = 0
        self.nonzero_cpu = 0
        self.nonzero_memory = 0
        self.pods = 0
        self.ports: Dict[Tuple[str, int], Dict[str, int]] = {}  # (proto, port) -> {ip: pods}
        self.spread: Dict[SpreadKey, int] = {}
        # least-requested score per pod size "cpu/memory" (non-zero); valid until the load changes
        self.scores: Dict[str, int] = {}
        self.free_cpu = self.alloc_cpu
        self.free_memory = self.alloc_memory
        self.free_pods = self.alloc_pods
        self.bonus = 0  # scratch of Snapshot.search
        self.version = 0  # bumped on every change of load (index.py)

    def _changed(self) -> None:
        self.version += 1
        self.scores.clear()
        self.free_cpu = self.alloc_cpu - self.cpu
        self.free_memory = self.alloc_memory - self.memory
        self.free_pods = self.alloc_pods - self.pods

    def add(self, entry: PodEntry) -> None:
        req = entry.requests
        self.cpu += req.cpu
        self.memory += req.memory
        self.nonzero_cpu += req.nonzero_cpu
        self.nonzero_memory += req.nonzero_memory
        self.pods += 1
        self._changed()
        for proto, ip, port in entry.ports:
            ips = self.ports.setdefault((proto, port), {})
            ips[ip] = ips.get(ip, 0) + 1
        if entry.spread is not None:
            self.spread[entry.spread] = self.spread.get(entry.spread, 0) + 1

    def remove(self, entry: PodEntry) -> None:
        req = entry.requests
        self.cpu -= req.cpu
        self.memory -= req.memory
        self.nonzero_cpu -= req.nonzero_cpu
        self.nonzero_memory -= req.nonzero_memory
        self.pods -= 1
        self._changed()
        for proto, ip, port in entry.ports:
            ips = self.ports.get((proto, port))
            if ips is not None and ip in ips:
                ips[ip] -= 1
                if ips[ip] <= 0:
                    del ips[ip]
                if not ips:
                    del self.ports[(proto, port)]
        if entry.spread is not None:
            left = self.spread.get(entry.spread, 0) - 1
            if left > 0:
                self.spread[entry.spread] = left
            else:
                self.spread.pop(entry.spread, None)
