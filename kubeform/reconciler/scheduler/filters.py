"""Filters: can this pod go on this node? Each returns None (yes) or the reason (no).

Why these words: the reasons are counted into the FailedScheduling message, which users
compare with what Kubernetes prints, so they are Kubernetes' own strings. Order is
Kubernetes' default profile (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts,
NodeResourcesFit, VolumeBinding), after readiness; a node is rejected by the first filter
that fails, except the resource filter, which reports every resource that is short.

Readiness is a filter of its own (Kubernetes expresses it only as the not-ready/unreachable
taints its node-lifecycle controller adds; kubeform's adds them too, but a moment after
the heartbeat lapsed), so a pod that tolerates every taint still never lands on a node
whose agent is gone.
"""

import re
from typing import Callable, List, Mapping, Optional, Tuple

from .nodeinfo import NodeInfo, Taint, ports_conflict
from .podview import PodView, Requirement, Term, Toleration

NOT_READY = "node(s) were not ready"
UNSCHEDULABLE = "node(s) were unschedulable"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
PORTS = "node(s) didn't have free ports for the requested pod ports"
TOO_MANY_PODS = "Too many pods"
INSUFFICIENT_CPU = "Insufficient cpu"
INSUFFICIENT_MEMORY = "Insufficient memory"
VOLUME_CONFLICT = "node(s) had volume node affinity conflict"
UNSCHEDULABLE_TAINT = ("node.kubernetes.io/unschedulable", "", "NoSchedule")

Filter = Callable[[PodView, NodeInfo], Optional[str]]


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Kubernetes' ToleratesTaint: an empty effect matches every effect, an empty key
    (with Exists) every key; Equal (the default operator) compares values."""
    key, operator, value, effect = toleration
    if effect and effect != taint[2]:
        return False
    if key and key != taint[0]:
        return False
    if operator == "Exists":
        return True
    if operator in ("", "Equal"):
        return value == taint[1]
    return False


def tolerated(tolerations: Tuple[Toleration, ...], taint: Taint) -> bool:
    return any(tolerates(t, taint) for t in tolerations)


def ready(pod: PodView, node: NodeInfo) -> Optional[str]:
    return None if node.ready else NOT_READY


def schedulable(pod: PodView, node: NodeInfo) -> Optional[str]:
    """spec.unschedulable (cordon) keeps pods away unless they tolerate its taint."""
    if node.unschedulable and not tolerated(pod.tolerations, UNSCHEDULABLE_TAINT):
        return UNSCHEDULABLE
    return None


def taints(pod: PodView, node: NodeInfo) -> Optional[str]:
    """The first NoSchedule/NoExecute taint the pod does not tolerate, named as Kubernetes does."""
    for taint in node.taints:
        if taint[2] in ("NoSchedule", "NoExecute") and not tolerated(pod.tolerations, taint):
            return "node(s) had untolerated taint {%s: %s}" % (taint[0], taint[1])
    return None


_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _int(text: str) -> Optional[int]:
    """An integer as Go's strconv.ParseInt reads it (Python's int() also takes "1_0", " 1")."""
    return int(text) if _INTEGER.match(text) else None


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    """One matchExpression: In, NotIn, Exists, DoesNotExist, Gt, Lt (as Kubernetes' selector)."""
    key, op, values = req
    present = key in labels
    if op == "In":
        return present and labels[key] in values
    if op == "NotIn":
        return not present or labels[key] not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt"):
        if not present or len(values) != 1:
            return False
        have, want = _int(labels[key]), _int(values[0])
        if have is None or want is None:
            return False
        return have > want if op == "Gt" else have < want
    return False


def term_matches(term: Term, node: NodeInfo) -> bool:
    """A nodeSelectorTerm: all its expressions and fields hold; an empty term matches nothing."""
    expressions, fields = term
    if not expressions and not fields:
        return False
    if not all(requirement_matches(r, node.labels) for r in expressions):
        return False
    name = {"metadata.name": node.name}
    return all(r[0] == "metadata.name" and requirement_matches(r, name) for r in fields)


def affinity(pod: PodView, node: NodeInfo) -> Optional[str]:
    """nodeSelector (every pair) and required node affinity (terms ORed) must both hold."""
    labels = node.labels
    for key, value in pod.node_selector:
        if labels.get(key) != value:
            return AFFINITY
    if pod.required_terms is not None and not any(term_matches(t, node) for t in pod.required_terms):
        return AFFINITY
    return None


def free_ports(pod: PodView, node: NodeInfo) -> Optional[str]:
    if pod.ports and ports_conflict(node.ports, pod.ports):
        return PORTS
    return None


def fits(pod: PodView, node: NodeInfo) -> List[str]:
    """NodeResourcesFit: every resource that is short (pods, cpu, memory), in that order."""
    short: List[str] = []
    if node.pods + 1 > node.alloc_pods:
        short.append(TOO_MANY_PODS)
    req = pod.requests
    if req.cpu > 0 and req.cpu > node.alloc_cpu - node.cpu:
        short.append(INSUFFICIENT_CPU)
    if req.memory > 0 and req.memory > node.alloc_memory - node.memory:
        short.append(INSUFFICIENT_MEMORY)
    return short


def volume_affinity(pod: PodView, node: NodeInfo) -> Optional[str]:
    """VolumeBinding: the node must be where every persistent volume of the pod is (each
    volume's node terms ORed, all volumes ANDed); a claim not yet bound has no terms."""
    for terms in pod.volume_terms:
        if not any(term_matches(t, node) for t in terms):
            return VOLUME_CONFLICT
    return None


# Filters that read only the node and the pod's spec (cached per pod template).
NODE_FILTERS: Tuple[Filter, ...] = (ready, schedulable, taints, affinity)
# Filters that read what other pods use on the node.
LOAD_FILTERS: Tuple[Filter, ...] = (free_ports,)


def reasons(pod: PodView, node: NodeInfo) -> List[str]:
    """Why the pod cannot go on the node (empty: it can)."""
    for f in NODE_FILTERS + LOAD_FILTERS:
        reason = f(pod, node)
        if reason is not None:
            return [reason]
    short = fits(pod, node)
    if short:
        return short
    conflict = volume_affinity(pod, node) if pod.volume_terms else None
    return [conflict] if conflict is not None else []
