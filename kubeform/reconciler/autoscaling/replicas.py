"""How many replicas a resource metric asks for: Kubernetes' replica calculator, in Python.

Written after pkg/controller/podautoscaler/replica_calculator.go (and metrics/utilization.go)
so that a kubeform HPA proposes what a Kubernetes one would from the same figures:

- metrics are the pods' measured use (kubeform.api.usage: what the agents write in
  ``status.usage``), in milli-units like upstream (cpu millicores, memory bytes x 1000);
- pods are grouped: being deleted or Failed -> ignored; Pending -> unready; no (fresh)
  metric -> missing; for cpu, a pod within CPU_INITIALIZATION_PERIOD of its start that is
  not Ready, or whose sample does not cover a whole window since it turned Ready, is
  unready, and later one that is not Ready and never was (DELAY_OF_INITIAL_READINESS_STATUS)
  too;
- utilization = sum(usage) x 100 / sum(requests) of the pods with metrics (integer, as
  upstream); ratio = utilization / target; within TOLERANCE of 1 nothing changes, else
  ceil(ratio x ready pods);
- with missing or (on a scale-up) unready pods the ratio is computed again assuming the
  missing use 0 on a scale-up and the request (or the target, if higher) on a scale-down,
  the unready 0; if that flips the direction or lands within the tolerance, nothing
  changes (the "rebalancing" that keeps an HPA from over-reacting to pods it cannot see).

Pure: pods and ``now`` in, a proposal or a MetricError (its message is the condition's).
"""

import datetime
import math
from typing import Any, Dict, List, NamedTuple, Optional, Set, Tuple

from kubeform.api import quantity, usage
from kubeform.api.nodes import parse_time
from kubeform.api.objects import condition, meta

Obj = Dict[str, Any]

TOLERANCE = 0.1
#: --horizontal-pod-autoscaler-cpu-initialization-period (5 min upstream).
CPU_INITIALIZATION_PERIOD = 300.0
#: --horizontal-pod-autoscaler-initial-readiness-delay (30 s upstream).
DELAY_OF_INITIAL_READINESS_STATUS = 30.0
RESOURCES = ("cpu", "memory")


class MetricError(Exception):
    """No proposal could be made; str() is the reason, as upstream words it."""


class PodMetric(NamedTuple):
    value: int  # milli-units
    timestamp: datetime.datetime
    window: float


class Proposal(NamedTuple):
    replicas: int
    utilization: Optional[int]  # percent of requests (Utilization targets only)
    raw: int  # average milli-value per pod with a metric


def _name(pod: Obj) -> str:
    return str(meta(pod).get("name", ""))


def pod_metrics(pods: List[Obj], resource: str, container: str, now: datetime.datetime) -> Dict[str, PodMetric]:
    """Pod name -> its measured use of ``resource`` (of one container when given)."""
    out = {}  # type: Dict[str, PodMetric]
    for pod in pods:
        u = usage.pod_usage(pod, now)
        if u is None:
            continue
        sample = u.containers.get(container) if container else u.total
        if sample is None:
            continue
        if resource == "cpu":
            value = sample.cpu_millis
        elif resource == "memory":
            value = None if sample.memory_bytes is None else sample.memory_bytes * 1000
        else:
            value = None
        if value is not None:
            out[_name(pod)] = PodMetric(value, u.timestamp, u.window_seconds)
    return out


def _time(value: Any) -> Optional[datetime.datetime]:
    return parse_time(value) if isinstance(value, str) else None


def group_pods(
    pods: List[Obj], metrics: Dict[str, PodMetric], resource: str, now: datetime.datetime
) -> Tuple[int, Set[str], Set[str], Set[str]]:
    """(ready pod count, unready, missing, ignored) as upstream's groupPods."""
    ready = 0
    unready = set()  # type: Set[str]
    missing = set()  # type: Set[str]
    ignored = set()  # type: Set[str]
    for pod in pods:
        name = _name(pod)
        phase = (pod.get("status") or {}).get("phase", "Pending")
        if meta(pod).get("deletionTimestamp") or phase == "Failed":
            ignored.add(name)
            continue
        if phase == "Pending":
            unready.add(name)
            continue
        metric = metrics.get(name)
        if metric is None:
            missing.add(name)
            continue
        if resource == "cpu":
            cond = condition(pod, "Ready")
            started = _time((pod.get("status") or {}).get("startTime"))
            changed = _time((cond or {}).get("lastTransitionTime"))
            if cond is None or started is None or changed is None:
                is_unready = True
            elif (started + datetime.timedelta(seconds=CPU_INITIALIZATION_PERIOD)) > now:
                is_unready = cond.get("status") == "False" or metric.timestamp < changed + datetime.timedelta(seconds=metric.window)
            else:
                is_unready = cond.get("status") == "False" and started + datetime.timedelta(seconds=DELAY_OF_INITIAL_READINESS_STATUS) > changed
            if is_unready:
                unready.add(name)
                continue
        ready += 1
    return ready, unready, missing, ignored


def _request(container: Obj, resource: str) -> Optional[int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    if resource not in requests:
        return None
    try:
        return quantity.cpu_millis(requests[resource])  # any quantity x 1000, rounded up
    except quantity.QuantityError:
        return None


def pod_requests(pods: List[Obj], container: str, resource: str) -> Dict[str, int]:
    """Pod name -> the sum of its containers' requests (milli-units); every container
    counted (restartable init containers too) must request the resource."""
    out = {}  # type: Dict[str, int]
    for pod in pods:
        spec = pod.get("spec") or {}
        containers = list(spec.get("containers") or [])
        containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
        total = 0
        for c in containers:
            if container and c.get("name") != container:
                continue
            value = _request(c, resource)
            if value is None:
                raise MetricError("missing request for %s in container %s of Pod %s" % (resource, c.get("name", ""), _name(pod)))
            total += value
        out[_name(pod)] = total
    return out


def utilization_ratio(values: Dict[str, int], requests: Dict[str, int], target: int) -> Tuple[float, int, int]:
    """(ratio to target, utilization %, average raw value) of the pods with both a value
    and a request (metrics/utilization.go)."""
    total = 0
    requested = 0
    entries = 0
    for name, value in values.items():
        if name not in requests:
            continue
        total += value
        requested += requests[name]
        entries += 1
    if requested == 0:
        raise MetricError("no metrics returned matched known pods")
    utilization = (total * 100) // requested
    return float(utilization) / float(target), utilization, total // entries


def usage_ratio(values: Dict[str, int], target: int) -> Tuple[float, int]:
    """(ratio to target, average value) for AverageValue targets."""
    average = sum(values.values()) // len(values)
    return float(average) / float(target), average


def _not_ready_message() -> str:
    return "did not receive metrics for targeted pods (pods might be unready)"


def resource_replicas(
    current: int, target_utilization: int, resource: str, container: str, pods: List[Obj], now: datetime.datetime
) -> Proposal:
    """GetResourceReplicas: the proposal for a Utilization target (percent of requests)."""
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    metrics = pod_metrics(pods, resource, container, now)
    if not metrics:
        raise MetricError("unable to get metrics for resource %s: no metrics returned from resource metrics API" % resource)
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, now)
    values = {n: m.value for n, m in metrics.items() if n not in ignored and n not in unready}
    requests = pod_requests(pods, container, resource)
    if not values:
        raise MetricError(_not_ready_message())
    ratio, utilization, raw = utilization_ratio(values, requests, target_utilization)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= TOLERANCE:
            return Proposal(current, utilization, raw)
        return Proposal(math.ceil(ratio * ready), utilization, raw)
    if missing:
        if ratio < 1.0:
            fallback = max(100, target_utilization)
            for name in missing:
                values[name] = requests.get(name, 0) * fallback // 100
        elif ratio > 1.0:
            for name in missing:
                values[name] = 0
    if scale_up_with_unready:
        for name in unready:
            values[name] = 0
    new_ratio = utilization_ratio(values, requests, target_utilization)[0]
    return _rebalanced(current, ratio, new_ratio, len(values), utilization, raw)


def _rebalanced(current: int, ratio: float, new_ratio: float, count: int, utilization: Optional[int], raw: int) -> Proposal:
    if abs(1.0 - new_ratio) <= TOLERANCE or (ratio < 1.0 < new_ratio) or (ratio > 1.0 > new_ratio):
        return Proposal(current, utilization, raw)  # too small a change, or the direction flipped
    replicas = math.ceil(new_ratio * count)
    if (new_ratio < 1.0 and replicas > current) or (new_ratio > 1.0 and replicas < current):
        return Proposal(current, utilization, raw)
    return Proposal(replicas, utilization, raw)


def raw_resource_replicas(
    current: int, target_value: int, resource: str, container: str, pods: List[Obj], now: datetime.datetime
) -> Proposal:
    """GetRawResourceReplicas (calcPlainMetricReplicas): an AverageValue target (milli)."""
    metrics = pod_metrics(pods, resource, container, now)
    if not metrics:
        raise MetricError("unable to get metrics for resource %s: no metrics returned from resource metrics API" % resource)
    if not pods:
        raise MetricError("no pods returned by selector while calculating replica count")
    ready, unready, missing, ignored = group_pods(pods, metrics, resource, now)
    values = {n: m.value for n, m in metrics.items() if n not in ignored and n not in unready}
    if not values:
        raise MetricError(_not_ready_message())
    ratio, average = usage_ratio(values, target_value)
    scale_up_with_unready = bool(unready) and ratio > 1.0
    if not scale_up_with_unready and not missing:
        if abs(1.0 - ratio) <= TOLERANCE:
            return Proposal(current, None, average)
        return Proposal(math.ceil(ratio * ready), None, average)
    if missing:
        for name in missing:
            values[name] = target_value if ratio < 1.0 else 0
    if scale_up_with_unready:
        for name in unready:
            values[name] = 0
    new_ratio = usage_ratio(values, target_value)[0]
    return _rebalanced(current, ratio, new_ratio, len(values), None, average)
