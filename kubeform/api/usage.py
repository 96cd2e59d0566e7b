"""Measured use of pods and nodes, as the agents report it: what the HPA and ``top`` read.

Why one reader: the autoscaler (reconciler) and ``kubeform top`` (operator CLI) must show
and act on the same figures, the way both read metrics-server in Kubernetes.

Where the agents put it:

- a pod's ``status.usage`` (written by the agent that runs it, every USAGE_PERIOD):
  ``cpu`` (millicores, the rate over ``window``), ``memory`` (the working set, bytes as
  ``<n>Ki``), ``timestamp`` (end of the window), ``window`` (``"15s"``), and
  ``containers``: ``[{name, cpu, memory}]`` the same per container. Before a second
  sample there is no rate: ``cpu`` is absent and the pod has no CPU metric yet.
- a node's heartbeat lease value (``/registry/leases/kube-node-lease/<node>``) carries
  ``usage``: the whole host's ``cpu`` (rate from /proc/stat) and ``memory`` (MemTotal -
  MemAvailable from /proc/meminfo), with ``timestamp`` and ``window``.

A figure older than MAX_AGE (an agent that stopped reporting) counts as missing, as a pod
that metrics-server no longer scrapes does. Pure, stdlib only (Python 3.6).
"""

import datetime
from typing import Any, Dict, NamedTuple, Optional

from . import quantity
from .nodes import parse_time

Obj = Dict[str, Any]

#: A pod's or node's figures older than this are not used (2 x the agents' period + slack).
MAX_AGE = 60.0


class Sample(NamedTuple):
    """CPU (millicores; None before the agent has a rate) and memory (bytes) of one thing."""

    cpu_millis: Optional[int]
    memory_bytes: Optional[int]


class PodUsage(NamedTuple):
    """A pod's measured use: the whole pod, each container, and when it was measured."""

    total: Sample
    containers: Dict[str, Sample]
    timestamp: datetime.datetime
    window_seconds: float


def parse_window(text: Any) -> float:
    """``"15s"`` (or a number of seconds) as seconds; 0.0 when unreadable."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if isinstance(text, str) and text.endswith("s"):
        try:
            return float(text[:-1])
        except ValueError:
            return 0.0
    return 0.0


def _sample(raw: Any) -> Sample:
    if not isinstance(raw, dict):
        return Sample(None, None)
    cpu = None  # type: Optional[int]
    memory = None  # type: Optional[int]
    try:
        if raw.get("cpu") is not None:
            cpu = quantity.cpu_millis(raw["cpu"])
    except quantity.QuantityError:
        cpu = None
    try:
        if raw.get("memory") is not None:
            memory = quantity.amount(raw["memory"])
    except quantity.QuantityError:
        memory = None
    return Sample(cpu, memory)


def read(raw: Any, now: Optional[datetime.datetime] = None) -> Optional[PodUsage]:
    """A ``usage`` record (pod status or node heartbeat) as figures; None when absent,
    unreadable, or older than MAX_AGE at ``now`` (when given)."""
    if not isinstance(raw, dict):
        return None
    stamp = raw.get("timestamp")
    when = parse_time(stamp) if isinstance(stamp, str) else None
    if when is None:
        return None
    if now is not None and (now - when).total_seconds() > MAX_AGE:
        return None
    window = parse_window(raw.get("window"))
    total = _sample(raw)
    if window <= 0:
        total = Sample(None, total.memory_bytes)
    containers = {}  # type: Dict[str, Sample]
    for c in raw.get("containers") or []:
        if isinstance(c, dict) and c.get("name"):
            s = _sample(c)
            containers[str(c["name"])] = s if window > 0 else Sample(None, s.memory_bytes)
    return PodUsage(total, containers, when, window)


def pod_usage(pod: Obj, now: Optional[datetime.datetime] = None) -> Optional[PodUsage]:
    """The figures in a pod's ``status.usage`` (see ``read``)."""
    return read((pod.get("status") or {}).get("usage"), now)


def node_usage(lease: Optional[Obj], now: Optional[datetime.datetime] = None) -> Optional[PodUsage]:
    """The host figures in a node's heartbeat value (see ``read``); containers are empty."""
    if not isinstance(lease, dict):
        return None
    return read(lease.get("usage"), now)


def render(cpu_millis: Optional[int], memory_bytes: int) -> Obj:
    """One sample as the agents write it: ``{"cpu": "250m", "memory": "1024Ki"}``."""
    out = {"memory": "%dKi" % (max(0, memory_bytes) // 1024)}  # type: Obj
    if cpu_millis is not None:
        out["cpu"] = "%dm" % max(0, cpu_millis)
    return out


_SI = ((18, "E"), (15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k"), (0, ""))


def format_milli(value: int) -> str:
    """A milli-value as Kubernetes prints ``resource.NewMilliQuantity(v, DecimalSI)``:
    the largest power-of-1000 suffix that keeps the number whole (1500 -> "1500m",
    2000 -> "2", 3000000000 -> "3M")."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v % 1000:
        return "%s%dm" % (sign, v)
    whole = v // 1000
    for exp, suffix in _SI:
        if whole % (10 ** exp) == 0:
            return "%s%d%s" % (sign, whole // (10 ** exp), suffix)
    return "%s%d" % (sign, whole)  # pragma: no cover (exp 0 always divides)
