"""Everything the scheduler reads from the pod it places, read once per decision.

Why: filters run against every node; parsing the pod's selector, affinity, tolerations
and requests once keeps that loop to comparisons. ``static_key`` names the pod's
node-only constraints, so pods of one template share the result of the node-only filters.
"""

import json
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from .nodeinfo import PodEntry, SpreadKey, pod_key, spread_key
from .resources import HostPort, PodRequests, host_ports, pod_requests

Obj = Dict[str, Any]

# (key, operator, value, effect)
Toleration = Tuple[str, str, str, str]
# one nodeSelectorTerm: (matchExpressions, matchFields), each [(key, operator, [values])]
Requirement = Tuple[str, str, Tuple[str, ...]]
Term = Tuple[Tuple[Requirement, ...], Tuple[Requirement, ...]]


class PodView(NamedTuple):
    key: str  # namespace/name
    requests: PodRequests
    ports: Tuple[HostPort, ...]
    spread: Optional[SpreadKey]
    node_selector: Tuple[Tuple[str, str], ...]
    required_terms: Optional[Tuple[Term, ...]]  # None: no required node affinity
    tolerations: Tuple[Toleration, ...]
    static_key: str
    # one entry per persistent volume the pod uses: its node terms (ORed); all must hold
    volume_terms: Tuple[Tuple[Term, ...], ...] = ()

    def entry(self) -> PodEntry:
        return PodEntry(self.requests, self.ports, self.spread)


def _requirements(items: Any) -> Tuple[Requirement, ...]:
    out: List[Requirement] = []
    for e in items or []:
        values = tuple(str(v) for v in e.get("values") or [])
        out.append((str(e.get("key") or ""), str(e.get("operator") or ""), values))
    return tuple(out)


def selector_terms(selector: Obj) -> Tuple[Term, ...]:
    """A NodeSelector's nodeSelectorTerms (a pod's required affinity, a volume's nodeAffinity)."""
    terms: List[Term] = []
    for term in selector.get("nodeSelectorTerms") or []:
        terms.append((_requirements(term.get("matchExpressions")), _requirements(term.get("matchFields"))))
    return tuple(terms)


def required_terms(pod: Obj) -> Optional[Tuple[Term, ...]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    return selector_terms(required)


def tolerations(pod: Obj) -> Tuple[Toleration, ...]:
    out: List[Toleration] = []
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        out.append(
            (str(t.get("key") or ""), str(t.get("operator") or "Equal"), str(t.get("value") or ""), str(t.get("effect") or ""))
        )
    return tuple(out)


def pod_view(pod: Obj, volume_terms: Tuple[Tuple[Term, ...], ...] = ()) -> PodView:
    """Read the pod once; raises resources.InvalidPod for requests that are not quantities.

    ``volume_terms``: where its persistent volumes are (scheduler/volumes.py), not part
    of ``static_key`` since they differ from pod to pod of one template."""
    spec = pod.get("spec") or {}
    selector = tuple(sorted((str(k), str(v)) for k, v in (spec.get("nodeSelector") or {}).items()))
    terms = required_terms(pod)
    tols = tolerations(pod)
    static = json.dumps([selector, terms, tols])
    return PodView(
        key=pod_key(pod),
        requests=pod_requests(pod),
        ports=tuple(host_ports(pod)),
        spread=spread_key(pod),
        node_selector=selector,
        required_terms=terms,
        tolerations=tols,
        static_key=static,
        volume_terms=volume_terms,
    )
