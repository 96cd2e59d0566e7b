"""The columns `kubeform get pods` prints, computed as kubectl computes them.

Why kubectl's rules exactly: a Kubernetes user reads STATUS at a glance (Init:1/2,
CrashLoopBackOff, Completed, Terminating) and the same pod must read the same here. Pure:
a pod object and ``now`` in, strings out (tests/data/printers/pod_status.yaml).
"""

from __future__ import annotations

import datetime
from typing import Any

Obj = dict[str, Any]


def _dict(v: Any) -> Obj:
    return v if isinstance(v, dict) else {}


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _parse(ts: Any) -> datetime.datetime | None:
    if not isinstance(ts, str) or not ts:
        return None
    try:
        t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=datetime.UTC)


def human_duration(seconds: float) -> str:
    """kubectl's HumanDuration (RESTARTS' "(5m30s ago)"): two units while they matter."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _condition_true(status: Obj, kind: str) -> bool:
    return any(
        _dict(c).get("type") == kind and _dict(c).get("status") == "True"
        for c in status.get("conditions") or []
    )


def _terminated_reason(term: Obj, prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + str(term["reason"])
    if _int(term.get("signal")):
        return f"{prefix}Signal:{_int(term.get('signal'))}"
    return f"{prefix}ExitCode:{_int(term.get('exitCode'))}"


def pod_columns(pod: Obj, now: datetime.datetime) -> list[str]:
    """READY, STATUS, RESTARTS of one pod (kubectl's printPod)."""
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    meta = _dict(pod.get("metadata"))
    total = len(spec.get("containers") or [])
    ready = 0
    restarts = 0
    last_restart: datetime.datetime | None = None
    phase = str(status.get("phase") or "Pending")
    reason = str(status.get("reason") or phase)

    def note_restart(cs: Obj) -> None:
        nonlocal last_restart
        finished = _parse(_dict(_dict(cs.get("lastState")).get("terminated")).get("finishedAt"))
        if finished is not None and (last_restart is None or finished > last_restart):
            last_restart = finished

    for cond in (_dict(c) for c in status.get("conditions") or []):
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = [_dict(c) for c in spec.get("initContainers") or []]
    # Sidecars (init containers with restartPolicy Always) run beside the app: kubectl
    # counts them in READY's total and keeps their restarts once the pod is initialized.
    sidecars = {str(c.get("name")) for c in init_specs if c.get("restartPolicy") == "Always"}
    total += len(sidecars)
    sidecar_restarts = 0
    sidecar_last: datetime.datetime | None = None
    initializing = False
    for i, cs in enumerate(_dict(c) for c in status.get("initContainerStatuses") or []):
        restarts += _int(cs.get("restartCount"))
        note_restart(cs)
        is_sidecar = str(cs.get("name")) in sidecars
        if is_sidecar:
            sidecar_restarts += _int(cs.get("restartCount"))
            finished = _parse(_dict(_dict(cs.get("lastState")).get("terminated")).get("finishedAt"))
            if finished is not None and (sidecar_last is None or finished > sidecar_last):
                sidecar_last = finished
        state = _dict(cs.get("state"))
        term, waiting = state.get("terminated"), state.get("waiting")
        if isinstance(term, dict) and _int(term.get("exitCode")) == 0:
            continue
        if is_sidecar and cs.get("started") is True:
            if cs.get("ready"):
                ready += 1
            continue
        if isinstance(term, dict):
            reason = _terminated_reason(term, "Init:")
        elif isinstance(waiting, dict) and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts = sidecar_restarts
        last_restart = sidecar_last
        has_running = False
        for cs in reversed([_dict(c) for c in status.get("containerStatuses") or []]):
            restarts += _int(cs.get("restartCount"))
            note_restart(cs)
            state = _dict(cs.get("state"))
            term, waiting = state.get("terminated"), state.get("waiting")
            if isinstance(waiting, dict) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(term, dict):
                reason = _terminated_reason(term)
            elif cs.get("ready") and isinstance(state.get("running"), dict):
                has_running = True
                ready += 1
        # kubectl: a Completed container beside a running one reads Running only while
        # the pod's Ready condition is True, else NotReady.
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(status, "Ready") else "NotReady"

    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"

    shown = str(restarts)
    if restarts and last_restart is not None:
        shown = f"{restarts} ({human_duration((now - last_restart).total_seconds())} ago)"
    return [f"{ready}/{total}", reason, shown]


def pod_wide(pod: Obj) -> list[str]:
    """IP, NODE, NOMINATED NODE, READINESS GATES (kubectl's -o wide)."""
    spec = _dict(pod.get("spec"))
    status = _dict(pod.get("status"))
    gates = [_dict(g).get("conditionType") for g in spec.get("readinessGates") or []]
    if gates:
        true = sum(1 for g in gates if _condition_true(status, str(g)))
        gates_text = f"{true}/{len(gates)}"
    else:
        gates_text = "<none>"
    return [
        str(status.get("podIP") or "<none>"),
        str(spec.get("nodeName") or "<none>"),
        str(status.get("nominatedNodeName") or "<none>"),
        gates_text,
    ]
