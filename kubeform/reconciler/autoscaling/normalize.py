"""From the metrics' proposal to the replica count to set: stabilization and rate limits.

After horizontal.go's normalizeDesiredReplicas (no ``behavior``) and
normalizeDesiredReplicasWithBehaviors (``behavior`` set):

- without behavior: the highest recommendation of the last DOWNSCALE_WINDOW seconds
  (a scale-down waits until every recent recommendation agrees), then clamped to
  [minReplicas, maxReplicas] and to at most max(2 x current, 4) (ScaleUpLimit);
- with behavior (missing fields defaulted as the API server does): stabilization over
  the scale-up window (the lowest recent recommendation) or the scale-down window (the
  highest), then the policies: per policy, the replicas at the start of its period
  (current minus what was added plus what was removed within periodSeconds) plus
  ``value`` pods or ``value`` percent; selectPolicy Max takes the largest change, Min the
  smallest, Disabled none.

Each returns the replica count, the AbleToScale reason/message of the stabilization and
the ScalingLimited reason/message, and the new recommendations. Pure.
"""

import datetime
import math
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from .history import Stamped

Obj = Dict[str, Any]

#: --horizontal-pod-autoscaler-downscale-stabilization (5 min upstream).
DOWNSCALE_WINDOW = 300
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
INT32_MAX = 2 ** 31 - 1
INT32_MIN = -(2 ** 31)


class Rules(NamedTuple):
    """HPAScalingRules with every field set."""

    window: int  # stabilizationWindowSeconds
    select: str  # Max | Min | Disabled
    policies: List[Tuple[str, int, int]]  # (Pods | Percent, value, periodSeconds)


class Outcome(NamedTuple):
    replicas: int
    stabilized: Tuple[str, str]  # AbleToScale reason, message
    limited: Tuple[bool, str, str]  # ScalingLimited status, reason, message
    recommendations: List[Stamped]


UP_DEFAULT = Rules(0, "Max", [("Pods", 4, 15), ("Percent", 100, 15)])
DOWN_DEFAULT_POLICIES = [("Percent", 100, 15)]


def _rules(raw: Any, window: int, policies: List[Tuple[str, int, int]]) -> Rules:
    """One direction's rules, missing fields filled as GenerateHPAScale{Up,Down}Rules do."""
    raw = raw if isinstance(raw, dict) else {}
    w = raw.get("stabilizationWindowSeconds")
    select = raw.get("selectPolicy") or "Max"
    given = raw.get("policies")
    if isinstance(given, list):
        policies = [(str(p.get("type")), int(p.get("value", 0)), int(p.get("periodSeconds", 0))) for p in given if isinstance(p, dict)]
    return Rules(int(w) if isinstance(w, int) else window, str(select), policies)


def behavior_rules(behavior: Obj, downscale_window: int = DOWNSCALE_WINDOW) -> Tuple[Rules, Rules]:
    """(scale up, scale down) rules of a ``spec.behavior``."""
    up = _rules(behavior.get("scaleUp"), UP_DEFAULT.window, list(UP_DEFAULT.policies))
    down = _rules(behavior.get("scaleDown"), downscale_window, list(DOWN_DEFAULT_POLICIES))
    return up, down


def longest_period(rules: Rules) -> int:
    return max([p[2] for p in rules.policies] or [0])


_READY = ("ReadyForNewScale", "recommended size matches current size")
_WITHIN = (False, "DesiredWithinRange", "the desired count is within the acceptable range")
_TOO_MANY = "the desired replica count is more than the maximum replica count"
_TOO_FEW = "the desired replica count is less than the minimum replica count"
_UP_LIMIT = "the desired replica count is increasing faster than the maximum scale rate"
_DOWN_LIMIT = "the desired replica count is decreasing faster than the maximum scale rate"


def _after(when: datetime.datetime, now: datetime.datetime, seconds: float) -> bool:
    return when > now - datetime.timedelta(seconds=seconds)


def without_behavior(
    current: int, desired: int, lo: int, hi: int, recommendations: List[Stamped], now: datetime.datetime,
    window: int = DOWNSCALE_WINDOW,
) -> Outcome:
    """normalizeDesiredReplicas: stabilizeRecommendation + convertDesiredReplicasWithRules."""
    cutoff = now - datetime.timedelta(seconds=window)
    kept = [(n, t) for n, t in recommendations if not t < cutoff]
    stabilized = max([desired] + [n for n, _ in kept])
    kept.append((desired, now))
    if stabilized != desired:
        reason = ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
    else:
        reason = _READY
    up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    if hi > up_limit:
        maximum, why = up_limit, ("ScaleUpLimit", _UP_LIMIT)
    else:
        maximum, why = hi, ("TooManyReplicas", _TOO_MANY)
    if stabilized < lo:
        return Outcome(lo, reason, (True, "TooFewReplicas", _TOO_FEW), kept)
    if stabilized > maximum:
        return Outcome(maximum, reason, (True, why[0], why[1]), kept)
    return Outcome(stabilized, reason, _WITHIN, kept)


def change_in_period(period: int, events: List[Stamped], now: datetime.datetime) -> int:
    """getReplicasChangePerPeriod: replicas changed by events younger than ``period``."""
    return sum(n for n, t in events if _after(t, now, period))


def scale_up_limit(current: int, up_events: List[Stamped], down_events: List[Stamped], rules: Rules, now: datetime.datetime) -> int:
    if rules.select == "Disabled":
        return current
    pick_min = rules.select == "Min"
    result = INT32_MAX if pick_min else INT32_MIN
    for kind, value, period in rules.policies:
        start = current - change_in_period(period, up_events, now) + change_in_period(period, down_events, now)
        if kind == "Pods":
            proposed = start + value
        elif kind == "Percent":
            proposed = math.ceil(start * (1 + float(value) / 100))
        else:
            continue
        result = min(result, proposed) if pick_min else max(result, proposed)
    return result


def scale_down_limit(current: int, up_events: List[Stamped], down_events: List[Stamped], rules: Rules, now: datetime.datetime) -> int:
    if rules.select == "Disabled":
        return current
    pick_min = rules.select == "Min"
    result = INT32_MIN if pick_min else INT32_MAX
    for kind, value, period in rules.policies:
        start = current - change_in_period(period, up_events, now) + change_in_period(period, down_events, now)
        if kind == "Pods":
            proposed = start - value
        elif kind == "Percent":
            proposed = int(start * (1 - float(value) / 100))
        else:
            continue
        result = max(result, proposed) if pick_min else min(result, proposed)
    return result


def with_behavior(
    current: int, desired: int, lo: int, hi: int, up: Rules, down: Rules,
    recommendations: List[Stamped], up_events: List[Stamped], down_events: List[Stamped], now: datetime.datetime,
) -> Outcome:
    """normalizeDesiredReplicasWithBehaviors: stabilizeRecommendationWithBehaviors, then
    convertDesiredReplicasWithBehaviorRate."""
    if desired >= current:
        window, better = up.window, min
        reason = ("ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
    else:
        window, better = down.window, max
        reason = ("ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
    stabilized = desired
    for n, t in recommendations:
        if _after(t, now, window):
            stabilized = better(n, stabilized)
    obsolete = now - datetime.timedelta(seconds=max(up.window, down.window))
    kept = [(n, t) for n, t in recommendations if not t < obsolete]
    kept.append((desired, now))
    stabilization = reason if stabilized != desired else _READY
    limited = _WITHIN
    replicas = stabilized
    if stabilized > current:
        limit = max(scale_up_limit(current, up_events, down_events, up, now), current)
        if hi > limit:
            maximum, why = limit, ("ScaleUpLimit", _UP_LIMIT)
        else:
            maximum, why = hi, ("TooManyReplicas", _TOO_MANY)
        if stabilized > maximum:
            replicas, limited = maximum, (True, why[0], why[1])
    elif stabilized < current:
        limit = min(scale_down_limit(current, up_events, down_events, down, now), current)
        if lo < limit:
            minimum, why = limit, ("ScaleDownLimit", _DOWN_LIMIT)
        else:
            minimum, why = lo, ("TooFewReplicas", _TOO_FEW)
        if stabilized < minimum:
            replicas, limited = minimum, (True, why[0], why[1])
    return Outcome(replicas, stabilization, limited, kept)


def record_scale(
    up: Optional[Rules], down: Optional[Rules], before: int, after: int,
    up_events: List[Stamped], down_events: List[Stamped], now: datetime.datetime,
) -> Tuple[List[Stamped], List[Stamped]]:
    """storeScaleEvent: the scale events after a rescale from ``before`` to ``after``,
    those older than every policy period dropped (they can no longer count)."""
    if up is None or down is None:
        return [], []  # without behavior nothing reads them
    horizon = max(longest_period(up), longest_period(down))
    up_kept = [(n, t) for n, t in up_events if _after(t, now, horizon)]
    down_kept = [(n, t) for n, t in down_events if _after(t, now, horizon)]
    if after > before:
        up_kept.append((after - before, now))
    elif after < before:
        down_kept.append((before - after, now))
    return up_kept, down_kept
