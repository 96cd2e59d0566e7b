"""HorizontalPodAutoscaler: set a workload's replicas from its pods' measured CPU and memory.

Kubernetes' HPA controller (pkg/controller/podautoscaler/horizontal.go), for resource
metrics: autoscaling/v1 ``targetCPUUtilizationPercentage`` (stored as v2) and v2
``Resource`` / ``ContainerResource`` metrics on cpu and memory with ``Utilization`` or
``AverageValue`` targets. Every sync of an HPA:

1. reads the scale target (Deployment, ReplicaSet, StatefulSet, ReplicationController):
   its spec.replicas is the current count, its selector picks the pods;
2. proposes a count per metric (autoscaling/replicas.py, from what the agents measured)
   and takes the largest; pods or objects metrics (no custom metrics API here) fail as
   upstream's do when their API is missing;
3. normalizes it (autoscaling/normalize.py): clamped to min/maxReplicas, stabilized
   (scale-down waits 300 s for every recent recommendation to agree, or as ``behavior``
   says) and rate-limited (``behavior`` policies, or at most doubling without one);
4. writes, in one transaction, the target's spec.replicas (on its mod_revision) when it
   changes, with a SuccessfulRescale event, and the HPA's status (currentReplicas,
   desiredReplicas, currentMetrics, lastScaleTime, conditions AbleToScale, ScalingActive,
   ScalingLimited with upstream's reasons) plus its history annotation (recent
   recommendations and scale events, autoscaling/history.py), so a restarted or new
   leader stabilizes exactly as the old one would have.

Paced like upstream (one decision per HPA every ~15 s): the resync brings each HPA every
SYNC_PERIOD and a decision less than MIN_INTERVAL after the previous one (the write of
the previous decision wakes the HPA again at once) does nothing. Warning events
(FailedGetScale, FailedGetResourceMetric, FailedComputeMetricsReplicas) are written when
the condition they explain changes, not at every retry.
"""

import copy
import datetime
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api import events, kinds, quantity, selectors
from kubeform.api.objects import condition, meta, set_condition
from kubeform.api.usage import format_milli
from kubeform.errors import UserError

from ..autoscaling import history, normalize, replicas
from ..machinery.actions import Action, CreateEvent, Put
from ..machinery.cache import Change
from .base import Controller, View

Obj = Dict[str, Any]

HPAS = "/registry/horizontalpodautoscalers/"
PODS = "/registry/pods/"
COMPONENT = "horizontal-pod-autoscaler"
#: --horizontal-pod-autoscaler-sync-period (15 s upstream): the resync of every HPA.
SYNC_PERIOD = 15.0
#: A decision younger than this is not made again (the resync brings the next one).
MIN_INTERVAL = 10.0
DEFAULT_CPU_UTILIZATION = 80
#: Kinds whose spec.replicas an HPA may set (the ones with a scale subresource here).
SCALABLE = ("Deployment", "ReplicaSet", "StatefulSet", "ReplicationController")
TARGET_PREFIXES = tuple(kinds.BY_KIND[k].prefix() for k in SCALABLE)


class Failure(Exception):
    """One metric could not give a proposal: the condition reason, its error and the
    error as the summary event words it."""

    def __init__(self, reason: str, inner: str, outer: str) -> None:
        Exception.__init__(self, outer)
        self.reason = reason
        self.inner = inner
        self.outer = outer


class Proposal(NamedTuple):
    replicas: int
    metric: str  # e.g. "cpu resource utilization (percentage of request)"
    status: Obj  # the MetricStatus


# -- the scale target ------------------------------------------------------------------

def find_target(view: View, namespace: str, ref: Obj) -> Tuple[Optional[Any], str]:
    """(cache item of the target, "") or (None, why it cannot be scaled)."""
    kind = str(ref.get("kind") or "")
    name = str(ref.get("name") or "")
    api_version = str(ref.get("apiVersion") or "")
    group = api_version.split("/")[0] if "/" in api_version else ""
    k = kinds.BY_KIND.get(kind)
    if k is None or kind not in SCALABLE or (api_version and group != k.group):
        return None, 'no matches for kind "%s" in group "%s"' % (kind, group if api_version else (k.group if k else ""))
    item = view.get(k.key(namespace, name))
    if item is None:
        return None, '%s "%s" not found' % (k.resource + ("." + k.group if k.group else ""), name)
    return item, ""


def target_selector(target: Obj) -> Optional[selectors.Selector]:
    try:
        return selectors.of_object(target)
    except UserError:
        return None


def target_pods(view: View, namespace: str, selector: selectors.Selector) -> List[Obj]:
    return [
        i.obj for i in view.list("%s%s/" % (PODS, namespace))
        if selectors.matches(selector, meta(i.obj).get("labels"))
    ]


# -- one metric ------------------------------------------------------------------------

def _target_value(target: Obj) -> Optional[int]:
    value = target.get("averageValue")
    if value is None:
        return None
    try:
        return quantity.cpu_millis(value)
    except quantity.QuantityError:
        return None


def metric_proposal(spec: Obj, current: int, pods: List[Obj], now: datetime.datetime) -> Proposal:
    """The proposal of one MetricSpec; Failure when it has none (the condition says why)."""
    mtype = spec.get("type")
    if mtype in ("Resource", "ContainerResource"):
        container_metric = mtype == "ContainerResource"
        src = (spec.get("containerResource") if container_metric else spec.get("resource")) or {}
        name = str(src.get("name") or "")
        container = str(src.get("container") or "") if container_metric else ""
        reason = "FailedGetContainerResourceMetric" if container_metric else "FailedGetResourceMetric"
        outer = ("failed to get %s container metric value: " if container_metric else "failed to get %s resource metric value: ") % name
        target = src.get("target") or {}
        value = _target_value(target)
        try:
            if value is not None:
                try:
                    p = replicas.raw_resource_replicas(current, value, name, container, pods, now)
                except replicas.MetricError as exc:
                    raise replicas.MetricError("failed to get %s usage: %s" % (name, exc)) from None
                current_status = {"averageValue": format_milli(p.raw)}  # type: Obj
                metric = "%s %sresource" % (name, "container " if container_metric else "")
            elif target.get("averageUtilization") is not None:
                try:
                    p = replicas.resource_replicas(current, int(target["averageUtilization"]), name, container, pods, now)
                except replicas.MetricError as exc:
                    raise replicas.MetricError("failed to get %s utilization: %s" % (name, exc)) from None
                current_status = {"averageUtilization": p.utilization, "averageValue": format_milli(p.raw)}
                metric = "%s %sresource utilization (percentage of request)" % (name, "container " if container_metric else "")
            else:
                raise replicas.MetricError("invalid resource metric source: neither an average utilization target nor an average value (usage) target was set")
        except replicas.MetricError as exc:
            raise Failure(reason, str(exc), outer + str(exc)) from None
        body = {"name": name, "current": current_status}  # type: Obj
        if container_metric:
            body["container"] = container
        key = "containerResource" if container_metric else "resource"
        return Proposal(p.replicas, metric, {"type": mtype, key: body})
    source = {"Pods": ("pods", "FailedGetPodsMetric"), "Object": ("object", "FailedGetObjectMetric"), "External": ("external", "FailedGetExternalMetric")}
    if mtype in source:
        field, reason = source[mtype]
        metric_name = str(((spec.get(field) or {}).get("metric") or {}).get("name") or "")
        inner = "unable to get metric %s: kubeform has no custom or external metrics API (only cpu and memory resource metrics)" % metric_name
        raise Failure(reason, inner, "failed to get %s metric value: %s" % (field, inner))
    inner = 'unknown metric source type "%s"' % mtype
    raise Failure("InvalidMetricSourceType", inner, inner)


# -- the decision ----------------------------------------------------------------------

class Decision(object):
    """What one sync decided: the HPA's new status and history, the scale, the events."""

    def __init__(self, hpa: Obj, now: datetime.datetime) -> None:
        self.hpa = hpa
        self.now = now
        self.stamp = events.rfc3339(now)
        status = hpa.get("status") or {}
        self.conditions = list(status.get("conditions") or [])  # type: List[Obj]
        self.events = []  # type: List[Tuple[str, str, str]]  # (type, reason, message)
        self.warned = False  # a Warning went out for a changed condition

    def set(self, kind: str, ok: bool, reason: str, message: str) -> None:
        self.conditions = set_condition(
            self.conditions, {"type": kind, "status": "True" if ok else "False", "reason": reason, "message": message}, self.stamp
        )

    def warn_on_change(self, kind: str, reason: str, message: str, event_reason: str, event_message: str) -> None:
        """Set a False condition; a Warning event only when the condition says something new."""
        old = condition(self.hpa, kind)
        if old is None or old.get("status") != "False" or old.get("reason") != reason or old.get("message") != message:
            self.events.append((events.WARNING, event_reason, event_message))
            self.warned = True
        self.set(kind, False, reason, message)


def _spec(hpa: Obj) -> Obj:
    s = hpa.get("spec")
    return s if isinstance(s, dict) else {}


def metric_specs(hpa: Obj) -> List[Obj]:
    metrics = [m for m in _spec(hpa).get("metrics") or [] if isinstance(m, dict)]
    if metrics:
        return metrics
    return [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": DEFAULT_CPU_UTILIZATION}}}]


def replicas_for_metrics(d: Decision, specs: List[Obj], current: int, pods: List[Obj]) -> Tuple[int, str, List[Obj], str]:
    """computeReplicasForMetrics: (replicas or -1, metric, statuses, error message)."""
    statuses = []  # type: List[Obj]
    best = 0
    metric = ""
    invalid = 0
    first = None  # type: Optional[Failure]
    for spec in specs:
        try:
            p = metric_proposal(spec, current, pods, d.now)
        except Failure as exc:
            statuses.append({"type": ""})
            if first is None:
                first = exc
            invalid += 1
            continue
        statuses.append(p.status)
        if best == 0 or p.replicas > best:
            best, metric = p.replicas, p.metric
    error = ""
    if first is not None:
        error = "invalid metrics (%d invalid out of %d), first error is: %s" % (invalid, len(specs), first.outer)
    if first is not None and (invalid >= len(specs) or best < current):
        message = "the HPA was unable to compute the replica count: %s" % first.inner
        d.warn_on_change("ScalingActive", first.reason, message, first.reason, first.inner)
        return -1, "", statuses, error
    d.set("ScalingActive", True, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from %s" % metric)
    return best, metric, statuses, error


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None or item.obj.get("kind", "HorizontalPodAutoscaler") != "HorizontalPodAutoscaler":
        return []
    hist = history.load(item.obj)
    if hist.decided is not None and 0 <= (now - hist.decided).total_seconds() < MIN_INTERVAL:
        return []  # decided moments ago (its own write woke it); the resync brings the next
    return reconcile(item, view, now, hist)


def reconcile(item: Any, view: View, now: datetime.datetime, hist: history.History) -> List[Action]:
    hpa = item.obj
    spec = _spec(hpa)
    namespace = meta(hpa).get("namespace") or "default"
    d = Decision(hpa, now)
    old_status = hpa.get("status") or {}
    target, why = find_target(view, namespace, spec.get("scaleTargetRef") or {})
    if target is None:
        d.warn_on_change(
            "AbleToScale", "FailedGetScale", "the HPA controller was unable to get the target's current scale: %s" % why,
            "FailedGetScale", why,
        )
        return finish(item, d, dict(old_status, conditions=d.conditions), None, None, None)
    d.set("AbleToScale", True, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
    current = int((target.obj.get("spec") or {}).get("replicas", 1))
    recommendations = hist.recommendations or [(current, now)]  # recordInitialRecommendation
    lo = int(spec.get("minReplicas") or 1)
    hi = int(spec.get("maxReplicas") or lo)
    behavior = spec.get("behavior") if isinstance(spec.get("behavior"), dict) else None
    rules = normalize.behavior_rules(behavior) if behavior is not None else None
    metric_statuses = None  # type: Optional[List[Obj]]
    reason = ""
    rescale = True
    if current == 0 and lo != 0:
        desired, rescale = 0, False
        d.set("ScalingActive", False, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
    elif current > hi:
        desired, reason = hi, "Current number of replicas above Spec.MaxReplicas"
    elif current < lo:
        desired, reason = lo, "Current number of replicas below Spec.MinReplicas"
    else:
        selector = target_selector(target.obj)
        if selector is None:
            message = "the HPA target's scale is missing a selector"
            d.warn_on_change("ScalingActive", "InvalidSelector", message, "SelectorRequired", "selector is required")
            failed = dict(old_status, currentReplicas=current, conditions=d.conditions)
            return finish(item, d, failed, None, None, hist._replace(decided=now, recommendations=recommendations))
        pods = target_pods(view, namespace, selector)
        proposed, metric, metric_statuses, error = replicas_for_metrics(d, metric_specs(hpa), current, pods)
        if proposed == -1:
            if d.warned:
                d.events.append((events.WARNING, "FailedComputeMetricsReplicas", error))
            failed = dict(old_status, currentReplicas=current, currentMetrics=metric_statuses, conditions=d.conditions)
            failed.setdefault("desiredReplicas", current)
            return finish(item, d, failed, None, None, hist._replace(decided=now, recommendations=recommendations))
        desired = max(0, proposed)
        if desired > current:
            reason = "%s above target" % metric
        elif desired < current:
            reason = "All metrics below target"
        if rules is None:
            out = normalize.without_behavior(current, desired, lo, hi, recommendations, now)
        else:
            out = normalize.with_behavior(current, desired, lo, hi, rules[0], rules[1], recommendations, hist.scale_up, hist.scale_down, now)
        d.set("AbleToScale", True, out.stabilized[0], out.stabilized[1])
        d.set("ScalingLimited", out.limited[0], out.limited[1], out.limited[2])
        desired, recommendations = out.replicas, out.recommendations
        rescale = desired != current
    new_hist = hist._replace(decided=now, recommendations=recommendations)
    scale_to = None  # type: Optional[int]
    if rescale:
        scale_to = desired
        d.set("AbleToScale", True, "SucceededRescale", "the HPA controller was able to update the target scale to %d" % desired)
        d.events.append((events.NORMAL, "SuccessfulRescale", "New size: %d; reason: %s" % (desired, reason)))
        up, down = normalize.record_scale(
            rules[0] if rules else None, rules[1] if rules else None, current, desired, hist.scale_up, hist.scale_down, now
        )
        new_hist = new_hist._replace(scale_up=up, scale_down=down)
    else:
        desired = current
    status = {"currentReplicas": current, "desiredReplicas": desired, "conditions": d.conditions}
    if old_status.get("lastScaleTime"):
        status["lastScaleTime"] = old_status["lastScaleTime"]
    if rescale:
        status["lastScaleTime"] = d.stamp
    if metric_statuses:
        status["currentMetrics"] = metric_statuses
    return finish(item, d, status, target, scale_to, new_hist)


def finish(
    item: Any, d: Decision, status: Obj, target: Optional[Any], scale_to: Optional[int], hist: Optional[history.History]
) -> List[Action]:
    """The actions: the target's new scale, the HPA (status, history) if it changed, events."""
    actions = []  # type: List[Action]
    if target is not None and scale_to is not None:
        obj = copy.deepcopy(target.obj)
        obj.setdefault("spec", {})["replicas"] = scale_to
        actions.append(Put(target.key, obj, target.mod_revision))
    hpa = copy.deepcopy(item.obj)
    hpa["status"] = status
    if hist is not None:
        history.store(hpa, hist)
    if hpa != item.obj:
        actions.append(Put(item.key, hpa, item.mod_revision))
    for event_type, reason, message in d.events:
        actions.append(CreateEvent(item.obj, reason, message, event_type, COMPONENT))
    return actions


def related(change: Change, view: View) -> List[str]:
    """Only an HPA's own changes wake it; targets and pods are read at its periodic sync
    (upstream too decides on a period, not on every pod change)."""
    return [change.key] if change.key.startswith(HPAS) else []


CONTROLLER = Controller(
    name="autoscaler",
    primary=HPAS,
    watches=(HPAS, PODS, *TARGET_PREFIXES),
    sync=sync,
    related=related,
    workers=1,
    resync=SYNC_PERIOD,
)
