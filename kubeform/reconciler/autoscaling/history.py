"""What an HPA remembers between decisions, kept on the HPA itself (an annotation).

Kubernetes' HPA controller keeps its recent recommendations (for the stabilization
windows) and its recent scale events (for the behavior policies' periods) in memory, so a
restarted kube-controller-manager forgets them and may scale down at once. kubeform keeps
them in the annotation HISTORY of the HPA, written in the same transaction as the status
and the scale, so a reconciler killed at any point (or a standby taking over) decides as
the old one would have. Only what can still matter is kept: recommendations younger than
the longer stabilization window, scale events younger than the longest policy period.

``decided`` (the time of the last decision) also paces the controller: writing the HPA
wakes it again at once, and it decides at most once per MIN_INTERVAL (upstream syncs every
15 s), the periodic resync bringing the next decision. Pure, stdlib only (Python 3.6).
"""

import datetime
import json
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api.events import rfc3339
from kubeform.api.nodes import parse_time

Obj = Dict[str, Any]

HISTORY = "autoscaling.kubeform.io/history"

#: (replica count or change, when)
Stamped = Tuple[int, datetime.datetime]


class History(NamedTuple):
    decided: Optional[datetime.datetime]
    recommendations: List[Stamped]
    scale_up: List[Stamped]  # replicas added
    scale_down: List[Stamped]  # replicas removed


EMPTY = History(None, [], [], [])


def _stamped(raw: Any) -> List[Stamped]:
    out = []  # type: List[Stamped]
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and isinstance(entry[1], str):
            when = parse_time(entry[1])
            if when is not None:
                out.append((entry[0], when))
    return out


def load(hpa: Obj) -> History:
    """The history stored on ``hpa`` (empty when absent or unreadable)."""
    text = ((hpa.get("metadata") or {}).get("annotations") or {}).get(HISTORY)
    if not isinstance(text, str):
        return EMPTY
    try:
        raw = json.loads(text)
    except ValueError:
        return EMPTY
    if not isinstance(raw, dict):
        return EMPTY
    decided = parse_time(raw["decided"]) if isinstance(raw.get("decided"), str) else None
    return History(decided, _stamped(raw.get("recommendations")), _stamped(raw.get("scaleUp")), _stamped(raw.get("scaleDown")))


def dump(history: History) -> str:
    def enc(items: List[Stamped]) -> List[List[Any]]:
        return [[n, rfc3339(t)] for n, t in items]

    raw = {
        "recommendations": enc(history.recommendations),
        "scaleUp": enc(history.scale_up),
        "scaleDown": enc(history.scale_down),
    }  # type: Obj
    if history.decided is not None:
        raw["decided"] = rfc3339(history.decided)
    return json.dumps(raw, sort_keys=True, separators=(",", ":"))


def store(hpa: Obj, history: History) -> None:
    """Put ``history`` into ``hpa``'s annotations (hpa is a copy the caller owns)."""
    meta = hpa.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations[HISTORY] = dump(history)
    meta["annotations"] = annotations
