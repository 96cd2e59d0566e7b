"""A Job's ``podFailurePolicy``: what one failed pod means, as Kubernetes' job controller
decides it (pkg/controller/job/pod_failure_policy.go).

The rules are tried in order; the first that matches decides:

- ``onExitCodes`` (``containerName`` optional, ``operator`` In or NotIn, ``values``): a
  container (then an init container) that terminated with a non-zero exit code matching;
- ``onPodConditions`` (``type``, ``status`` default "True"): a condition of the pod.

``action``: ``FailJob`` fails the Job at once (reason ``PodFailurePolicy``, upstream's
message), ``FailIndex`` (Jobs with ``backoffLimitPerIndex`` only) fails the pod's index at
once without waiting for its per-index limit, ``Ignore`` does not count the failure (neither in ``status.failed`` nor against
``backoffLimit``), ``Count`` counts it as usual. No rule matching: counted as usual.
Pure and stdlib-only.
"""

from typing import Any, Dict, List, NamedTuple, Optional

Obj = Dict[str, Any]

REASON = "PodFailurePolicy"


class Verdict(NamedTuple):
    """Whether the failure counts, the Job's failure message when a FailJob rule matched,
    and whether a FailIndex rule matched."""

    counts: bool
    fail_job: Optional[str]
    fail_index: bool = False


COUNTED = Verdict(True, None)


def _exit_code(status: Obj) -> Optional[int]:
    terminated = (status.get("state") or {}).get("terminated")
    if not isinstance(terminated, dict):
        return None  # still terminating: no exit code to match
    code = terminated.get("exitCode")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _operator_matches(code: int, requirement: Obj) -> bool:
    values = requirement.get("values") or []
    if requirement.get("operator") == "In":
        return code in values
    if requirement.get("operator") == "NotIn":
        return code not in values
    return False


def matching_container(pod: Obj, requirement: Obj) -> Optional[Obj]:
    """The first container, then init container, status the exit-code requirement matches."""
    status = pod.get("status") or {}
    for group in ("containerStatuses", "initContainerStatuses"):
        for cs in status.get(group) or []:
            code = _exit_code(cs)
            if code is None or code == 0:
                continue
            name = requirement.get("containerName")
            if (name is None or name == cs.get("name")) and _operator_matches(code, requirement):
                return dict(cs)
    return None


def matching_condition(pod: Obj, patterns: List[Obj]) -> Optional[Obj]:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        for pattern in patterns:
            if cond.get("type") == pattern.get("type") and cond.get("status") == (pattern.get("status") or "True"):
                return dict(cond)
    return None


def judge(policy: Any, pod: Obj) -> Verdict:
    """What the failed ``pod`` means under ``policy`` (a Job's spec.podFailurePolicy)."""
    if not isinstance(policy, dict):
        return COUNTED
    pmeta = pod.get("metadata") or {}
    where = "%s/%s" % (pmeta.get("namespace") or "default", pmeta.get("name") or "")
    for index, rule in enumerate(policy.get("rules") or []):
        if not isinstance(rule, dict):
            continue
        action = rule.get("action")
        message = None
        if isinstance(rule.get("onExitCodes"), dict):
            cs = matching_container(pod, rule["onExitCodes"])
            if cs is None:
                continue
            message = "Container %s for pod %s failed with exit code %s matching %s rule at index %d" % (
                cs.get("name"), where, _exit_code(cs), action, index)
        elif isinstance(rule.get("onPodConditions"), list):
            cond = matching_condition(pod, rule["onPodConditions"])
            if cond is None:
                continue
            message = "Pod %s has condition %s matching %s rule at index %d" % (where, cond.get("type"), action, index)
        else:
            continue
        if action == "Ignore":
            return Verdict(False, None)
        if action == "FailJob":
            return Verdict(True, message)
        if action == "FailIndex":
            return Verdict(True, None, True)
        if action == "Count":
            return COUNTED
    return COUNTED
