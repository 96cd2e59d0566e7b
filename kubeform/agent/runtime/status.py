"""A pod's status as the kubelet reports it, from the same observations the plan used. Pure.

Why separate from the plan: status is what users read (``get pods`` READY/STATUS/RESTARTS,
``describe``), with Kubernetes' exact reasons and shapes; computing it from (pod, observed,
the plan's waiting reasons, now) keeps it a function that data files can test. Conditions
keep their lastTransitionTime while their status does not change, and the scheduler's
PodScheduled condition is kept as written.
"""

import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api.events import rfc3339
from kubeform.api.nodes import parse_time
from kubeform.api.objects import set_condition

from .driver import ContainerInfo
from .lifecycle import Observed, by_name, outcome

Obj = Dict[str, Any]


def seconds(ts: str) -> str:
    """A driver's time (maybe with nanoseconds) as Kubernetes writes it: RFC 3339 seconds."""
    parsed = parse_time(ts) if ts else None
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed is not None else ts


def _terminated(c: ContainerInfo, runtime: str) -> Obj:
    reason = c.reason or ("Completed" if c.exit_code == 0 else "Error")
    out = {
        "exitCode": c.exit_code if c.exit_code is not None else 0,
        "reason": reason,
        "startedAt": seconds(c.started_at) or None,
        "finishedAt": seconds(c.finished_at) or None,
        "containerID": "%s://%s" % (runtime, c.id),
    }  # type: Obj
    return {"terminated": {k: v for k, v in out.items() if v is not None}}


def _image_id(obs: Observed, ref: str, old: Obj) -> str:
    info = obs.images.get(ref)
    if info is not None and info.digest:
        base = ref.split("@", 1)[0]
        return "%s@%s" % (base, info.digest)
    return str(old.get("imageID", ""))


def container_status(
    pod: Obj,
    spec: Obj,
    history: List[ContainerInfo],
    obs: Observed,
    waiting: Dict[str, Tuple[str, str]],
    default_waiting: str,
    runtime: str,
    old: Obj,
) -> Obj:
    """One entry of containerStatuses/initContainerStatuses (history: newest attempt first)."""
    name = spec.get("name", "")
    ref = str(spec.get("image", ""))
    out = {"name": name, "image": ref, "imageID": _image_id(obs, ref, old), "ready": False, "started": False}  # type: Obj
    c = history[0] if history else None
    prev = history[1] if len(history) > 1 else None
    if c is None:
        out["restartCount"] = int(old.get("restartCount") or 0)
        reason, message = waiting.get(name, (default_waiting, ""))
        out["state"] = {"waiting": _waiting(reason, message)}
        if old.get("lastState"):
            out["lastState"] = old["lastState"]
        else:
            out["lastState"] = {}
        return out
    out["restartCount"] = c.attempt
    out["containerID"] = "%s://%s" % (runtime, c.id)
    last_state = _terminated(prev, runtime) if prev is not None and prev.state == "exited" else {}
    if c.state == "running":
        verdict = obs.verdicts.get(name)
        out["state"] = {"running": {"startedAt": seconds(c.started_at)}}
        out["started"] = verdict.started if verdict is not None else True
        out["ready"] = verdict.ready if verdict is not None else True
    elif c.state == "exited":
        if name in waiting:
            reason, message = waiting[name]
            out["state"] = {"waiting": _waiting(reason, message)}
            last_state = _terminated(c, runtime)
        else:
            out["state"] = _terminated(c, runtime)
    else:
        reason, message = waiting.get(name, ("ContainerCreating", ""))
        out["state"] = {"waiting": _waiting(reason, message)}
    if not last_state and old.get("restartCount") == out["restartCount"] and old.get("lastState"):
        last_state = old["lastState"]  # the previous attempt is gone from the host (reboot)
    out["lastState"] = last_state
    return out


def _waiting(reason: str, message: str) -> Obj:
    out = {"reason": reason}
    if message:
        out["message"] = message
    return out


def _cond(kind: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    out = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}  # type: Obj
    if not ok and reason:
        out["reason"] = reason
    if not ok and message:
        out["message"] = message
    return out


def qos_class(pod: Obj) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = list((pod.get("spec") or {}).get("containers") or []) + list((pod.get("spec") or {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if req or lim:
            any_set = True
        for r in ("cpu", "memory"):
            if r not in lim or str(req.get(r, lim[r])) != str(lim[r]):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def compute(
    pod: Obj,
    obs: Observed,
    waiting: Dict[str, Tuple[str, str]],
    host_ip: str,
    now: datetime.datetime,
    runtime: str,
) -> Obj:
    """The whole status the agent writes for a pod bound to its node."""
    old = pod.get("status") or {}
    spec = pod.get("spec") or {}
    stamp = rfc3339(now)
    inits = [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    apps = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    groups = by_name(obs.containers)
    old_by_name = {}  # type: Dict[str, Obj]
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in old.get(key) or []:
            if isinstance(cs, dict):
                old_by_name[str(cs.get("name"))] = cs

    init_statuses = []  # type: List[Obj]
    incomplete = []  # type: List[str]
    for c in inits:
        name = c.get("name", "")
        history = groups.get(name, [])
        cs = container_status(pod, c, history, obs, waiting, "PodInitializing", runtime, old_by_name.get(name, {}))
        done = bool(history) and history[0].state == "exited" and history[0].exit_code == 0
        cs["ready"] = done
        init_statuses.append(cs)
        if not done:
            incomplete.append(name)
    apps_started = any(a.get("name") in groups for a in apps)
    initialized = not incomplete or apps_started

    app_statuses = []  # type: List[Obj]
    unready = []  # type: List[str]
    for c in apps:
        name = c.get("name", "")
        default = "ContainerCreating" if initialized else "PodInitializing"
        cs = container_status(pod, c, groups.get(name, []), obs, waiting, default, runtime, old_by_name.get(name, {}))
        app_statuses.append(cs)
        if not cs.get("ready"):
            unready.append(name)

    finished = outcome(pod, obs.containers)
    phase = finished or _phase(pod, obs, initialized)
    status = {"phase": phase, "hostIP": host_ip, "qosClass": qos_class(pod)}  # type: Obj
    if host_ip:
        status["hostIPs"] = [{"ip": host_ip}]
    ip = obs.sandbox.ip if obs.sandbox is not None and obs.sandbox.ready else ""
    if not ip and finished:
        ip = str(old.get("podIP") or "")
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    status["startTime"] = old.get("startTime") or stamp
    if init_statuses:
        status["initContainerStatuses"] = init_statuses
    status["containerStatuses"] = app_statuses

    conditions = [dict(c) for c in old.get("conditions") or [] if isinstance(c, dict)]
    if not any(c.get("type") == "PodScheduled" for c in conditions):
        conditions = set_condition(conditions, _cond("PodScheduled", True), stamp)
    if initialized:
        init_cond = _cond("Initialized", True)
    else:
        init_cond = _cond("Initialized", False, "ContainersNotInitialized", "containers with incomplete status: [%s]" % " ".join(incomplete))
    conditions = set_condition(conditions, init_cond, stamp)
    if finished:
        ready_cond = _cond("ContainersReady", False, "PodCompleted")
    elif unready:
        ready_cond = _cond("ContainersReady", False, "ContainersNotReady", "containers with unready status: [%s]" % " ".join(unready))
    else:
        ready_cond = _cond("ContainersReady", True)
    conditions = set_condition(conditions, ready_cond, stamp)
    ready = dict(ready_cond)
    ready["type"] = "Ready"
    conditions = set_condition(conditions, ready, stamp)
    order = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2, "ContainersReady": 3, "PodScheduled": 4}
    status["conditions"] = sorted(conditions, key=lambda c: order.get(str(c.get("type")), 9))
    return status


def _phase(pod: Obj, obs: Observed, initialized: bool) -> str:
    """Pending until every app container has run at least once, then Running."""
    if obs.sandbox is None or not obs.sandbox.ready or not initialized:
        return "Pending"
    groups = by_name(obs.containers)
    for c in (pod.get("spec") or {}).get("containers") or []:
        history = groups.get(c.get("name", ""), [])
        if not history:
            return "Pending"
        if history[0].state == "created":
            return "Pending"
    return "Running"


def changed(old: Optional[Obj], new: Obj) -> bool:
    """Whether writing ``new`` would change anything (the agent writes only on a change)."""
    return (old or {}) != new


