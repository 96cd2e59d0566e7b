"""What a Deployment's rollout is made of, shared by the reconciler and the CLI.

The annotations Kubernetes puts on a Deployment and its ReplicaSets (revision,
revision-history, desired-replicas, max-replicas), how a template is compared with a
ReplicaSet's (ignoring the pod-template-hash label), and how maxSurge/maxUnavailable
resolve to numbers (percentages of the replicas: surge rounded up, unavailable rounded
down; both zero means one unavailable), as Kubernetes' deployment/util does it.
Pure and stdlib-only (Python 3.6).
"""

import copy
import math
import re
from typing import Any, Dict, Optional, Tuple

Obj = Dict[str, Any]

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
#: kubectl rollout restart stamps the template with this annotation (the time).
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
#: annotations of a Deployment that are not copied to its ReplicaSets
NOT_COPIED = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
)

_PERCENT = re.compile(r"^(\d+)%$")


class BadValue(ValueError):
    """maxSurge/maxUnavailable that is neither an integer nor ``N%``."""


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """An int or a percentage of ``total`` (Kubernetes' GetScaledValueFromIntOrPercent)."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise BadValue("invalid value %r" % (value,))
    if isinstance(value, int):
        return value
    text = str(value)
    m = _PERCENT.match(text)
    if m is None:
        if text.isdigit():
            return int(text)
        raise BadValue("invalid value for IntOrString: %r" % (value,))
    fraction = int(m.group(1)) * total / 100.0
    return math.ceil(fraction) if round_up else math.floor(fraction)


def is_rolling(deploy: Obj) -> bool:
    strategy = (deploy.get("spec") or {}).get("strategy") or {}
    return bool(strategy.get("type", "RollingUpdate") == "RollingUpdate")


def replicas(obj: Obj, default: int = 1) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def fenceposts(deploy: Obj) -> Tuple[int, int]:
    """(maxSurge, maxUnavailable) as numbers for the Deployment's replicas."""
    if not is_rolling(deploy):
        return 0, 0
    ru = ((deploy.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(deploy)
    surge = scaled_value(ru.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(ru.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(deploy: Obj) -> int:
    return fenceposts(deploy)[0]


def max_unavailable(deploy: Obj) -> int:
    """maxUnavailable as a number, never more than the replicas (0 for Recreate)."""
    desired = replicas(deploy)
    if not is_rolling(deploy) or desired == 0:
        return 0
    return min(fenceposts(deploy)[1], desired)


def revision(obj: Obj) -> int:
    """The revision annotation as a number (0 when absent or not a number)."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "")
    try:
        return int(str(text))
    except ValueError:
        return 0


def without_hash(template: Optional[Obj]) -> Obj:
    """A pod template without the pod-template-hash label (a copy)."""
    out = copy.deepcopy(template or {})
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
        if not labels:
            out["metadata"].pop("labels")
    if "metadata" in out and not out["metadata"]:
        out.pop("metadata")
    return out


def equal_ignore_hash(a: Optional[Obj], b: Optional[Obj]) -> bool:
    """Two pod templates are the same rollout revision (Kubernetes' EqualIgnoreHash)."""
    return without_hash(a) == without_hash(b)
