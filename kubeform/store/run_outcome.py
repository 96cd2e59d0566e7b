"""Where a pod made by ``kubeform run -i --rm`` stands: still going, finished, or stuck.

kubeform has no attach, so an attached ``run`` waits for the pod to end, then prints its
output (``logs``) and removes it (``--rm``): this is the pure decision of each poll, from
the stored pod alone (data-driven cases: tests/data/printers/run_outcome.yaml).
"""

from __future__ import annotations

from typing import Any, NamedTuple

Obj = dict[str, Any]

#: Waiting reasons that will not resolve by waiting (kubectl run would wait its
#: --pod-running-timeout, then fail; saying so at once is kinder).
STUCK = ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
         "CreateContainerError", "CrashLoopBackOff")


class Outcome(NamedTuple):
    state: str  # "pending" (not started), "running", "done", "stuck"
    exit_code: int = 0
    detail: str = ""


def outcome(pod: Obj | None) -> Outcome:
    """The pod's standing: ``done`` with its (first non-zero) exit code once every
    container terminated and the pod will not restart them, ``stuck`` with the reason."""
    if pod is None:
        return Outcome("stuck", 1, "the pod is gone")
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    for cs in statuses:
        reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
        if reason in STUCK:
            message = ((cs.get("state") or {}).get("waiting") or {}).get("message") or ""
            return Outcome("stuck", 1, f"{reason}: {message}".rstrip(": "))
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
            return Outcome("pending", 0, str(cond.get("message") or "Unschedulable"))
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        codes = [((cs.get("state") or {}).get("terminated") or {}).get("exitCode") for cs in statuses]
        failed = [c for c in codes if isinstance(c, int) and c != 0]
        code = failed[0] if failed else (1 if phase == "Failed" else 0)
        return Outcome("done", code, str(phase))
    if any("running" in (cs.get("state") or {}) or "terminated" in (cs.get("state") or {}) for cs in statuses):
        return Outcome("running")
    return Outcome("pending")
