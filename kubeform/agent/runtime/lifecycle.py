"""What to do next for one pod: a pure function of (pod spec, what the host reports, now).

Why pure and level-triggered: the whole truth is the pod object, the driver's list of
sandboxes and containers (with their attempt numbers and exit codes), the probe verdicts
and the back-off entries. An agent that was killed with -9 (or a host that rebooted) reads
the same world and plans the same next step, and since a container's attempt number comes
from the containers that exist, a container whose (uid, name, attempt) exists is never
started again: nothing is duplicated. The manager performs the actions in order.
"""

import hashlib
import json
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api.nodes import parse_time

from . import backoff
from .driver import ContainerInfo, ImageInfo, SandboxInfo
from .probes import Verdict

Obj = Dict[str, Any]

DEFAULT_GRACE = 30.0


class Observed(NamedTuple):
    """What the host and the agent's memory say about one pod (by uid)."""

    sandbox: Optional[SandboxInfo]
    containers: List[ContainerInfo]  # this pod's, every attempt still on the host
    images: Dict[str, ImageInfo]  # refs pulled, by the reference the spec writes
    pull_errors: Dict[str, str]  # image ref -> last pull error (cleared on success)
    pull_backoff: Dict[str, backoff.Backoff]  # image ref -> back-off entry
    crash_backoff: Dict[str, backoff.Backoff]  # container name -> back-off entry
    verdicts: Dict[str, Verdict]  # container name -> probe verdict (running ones)
    config_errors: Dict[str, str]  # container name -> CreateContainerConfigError message
    volume_error: str  # FailedMount message, "" when every volume is set up
    hashes: Dict[str, str]  # container id -> container_hash of the spec it was started from
    hooks: Dict[str, Dict[str, str]]  # container id -> hook -> state (hookrecords.py)


def observed(
    sandbox: Optional[SandboxInfo] = None,
    containers: Optional[List[ContainerInfo]] = None,
    **kw: Any
) -> Observed:
    """An Observed with empty defaults (tests and the manager fill what they know)."""
    return Observed(
        sandbox,
        list(containers or []),
        kw.get("images") or {},
        kw.get("pull_errors") or {},
        kw.get("pull_backoff") or {},
        kw.get("crash_backoff") or {},
        kw.get("verdicts") or {},
        kw.get("config_errors") or {},
        kw.get("volume_error") or "",
        kw.get("hashes") or {},
        kw.get("hooks") or {},
    )


def container_hash(spec: Obj) -> str:
    """A digest of one container's spec: a running container whose spec changed (a new
    image applied) is restarted, as the kubelet does with its container hash."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Action(NamedTuple):
    kind: str  # pull | sandbox | start | poststart | kill | remove | teardown | delete
    container: str = ""  # container name in the spec
    init: bool = False
    attempt: int = 0
    image: str = ""
    container_id: str = ""
    grace: float = 0.0
    reason: str = ""  # why (for events): Liveness, Startup, Deleting, NotInSpec, FailedPostStartHook, ...
    message: str = ""


class Plan(NamedTuple):
    actions: List[Action]
    waiting: Dict[str, Tuple[str, str]]  # container name -> (reason, message) for status


# -- small readers ---------------------------------------------------------------------

def epoch(ts: str) -> float:
    """An RFC 3339 time as seconds since the epoch (0 when empty or unreadable)."""
    if not ts:
        return 0.0
    t = parse_time(ts)
    return t.timestamp() if t is not None else 0.0


def restart_policy(pod: Obj) -> str:
    policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    return policy if policy in ("Always", "OnFailure", "Never") else "Always"


def grace_seconds(pod: Obj) -> float:
    """The grace of a deletion (deletionGracePeriodSeconds) or of the pod spec."""
    meta = pod.get("metadata") or {}
    value = meta.get("deletionGracePeriodSeconds")
    if value is None:
        value = (pod.get("spec") or {}).get("terminationGracePeriodSeconds")
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_GRACE
    except (TypeError, ValueError):
        return DEFAULT_GRACE


def by_name(containers: List[ContainerInfo]) -> Dict[str, List[ContainerInfo]]:
    """The pod's containers per spec name, newest attempt first."""
    out = {}  # type: Dict[str, List[ContainerInfo]]
    for c in containers:
        out.setdefault(c.name, []).append(c)
    for items in out.values():
        items.sort(key=lambda c: c.attempt, reverse=True)
    return out


def latest(containers: List[ContainerInfo]) -> Dict[str, ContainerInfo]:
    return {name: items[0] for name, items in by_name(containers).items()}


def will_restart(policy: str, c: ContainerInfo) -> bool:
    """Whether an exited container is restarted under the pod's restartPolicy."""
    if c.state != "exited":
        return False
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return c.exit_code != 0
    return False


def _status_entry(pod: Obj, name: str) -> Obj:
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            if isinstance(cs, dict) and cs.get("name") == name:
                return dict(cs)
    return {}


def next_attempt(pod: Obj, name: str, mine: List[ContainerInfo]) -> int:
    """One past the newest attempt on the host; with none left (a reboot), one past the
    restartCount the status recorded if that container ever ran, so numbers never repeat."""
    if mine:
        return max(c.attempt for c in mine) + 1
    cs = _status_entry(pod, name)
    if cs.get("containerID"):
        return int(cs.get("restartCount") or 0) + 1
    return 0


def outcome(pod: Obj, containers: List[ContainerInfo]) -> str:
    """"Succeeded"/"Failed" when the pod is finished for good, else "". Pure.

    A phase once recorded terminal stays so (Kubernetes never revives a finished pod).
    """
    recorded = (pod.get("status") or {}).get("phase")
    if recorded in ("Succeeded", "Failed"):
        return str(recorded)
    spec = pod.get("spec") or {}
    policy = restart_policy(pod)
    last = latest(containers)
    if policy == "Never":
        for init in spec.get("initContainers") or []:
            c = last.get(init.get("name"))
            if c is not None and c.state == "exited" and c.exit_code != 0:
                return "Failed"
    if policy == "Always":
        return ""
    apps = spec.get("containers") or []
    if not apps:
        return ""
    codes = []  # type: List[int]
    for app in apps:
        c = last.get(app.get("name"))
        if c is None or c.state != "exited" or will_restart(policy, c):
            return ""
        codes.append(c.exit_code or 0)
    return "Succeeded" if all(code == 0 for code in codes) else "Failed"


def update_crash_backoff(pod: Obj, containers: List[ContainerInfo], entries: Dict[str, backoff.Backoff]) -> Dict[str, backoff.Backoff]:
    """Count each exit that will be restarted once into its container's back-off."""
    policy = restart_policy(pod)
    out = dict(entries)
    for name, c in latest(containers).items():
        if will_restart(policy, c):
            out[name] = backoff.record_exit(out.get(name, backoff.Backoff()), c.attempt, epoch(c.started_at), epoch(c.finished_at))
    return out


def crash_message(pod: Obj, name: str, entry: backoff.Backoff) -> str:
    meta = pod.get("metadata") or {}
    return "back-off %ds restarting failed container=%s pod=%s_%s(%s)" % (
        int(backoff.delay(entry.failures)),
        name,
        meta.get("name", ""),
        meta.get("namespace") or "default",
        meta.get("uid", ""),
    )


# -- the plan --------------------------------------------------------------------------

def _start(pod: Obj, spec: Obj, obs: Observed, init: bool, attempt: int, now: float, waiting: Dict[str, Tuple[str, str]]) -> List[Action]:
    """Pull (unless in pull back-off) then start; the manager stops at a failed pull."""
    name = spec.get("name", "")
    ref = str(spec.get("image", ""))
    entry = obs.pull_backoff.get(ref)
    if ref in obs.pull_errors and entry is not None and backoff.waiting(entry, now):
        waiting[name] = ("ImagePullBackOff", 'Back-off pulling image "%s": %s' % (ref, obs.pull_errors[ref]))
        return []
    start = Action("start", name, init, attempt, ref)
    if name in obs.config_errors:
        waiting[name] = ("CreateContainerConfigError", obs.config_errors[name])
        if ref in obs.images:
            return [start]  # retried every pass: no pull (and no Pulling event) each time
    return [Action("pull", name, init, attempt, ref), start]


def _restart_or_wait(pod: Obj, spec: Obj, c: ContainerInfo, obs: Observed, init: bool, now: float, waiting: Dict[str, Tuple[str, str]]) -> List[Action]:
    """Restart an exited container once its crash back-off has run out. A container whose
    sandbox died with it (a reboot) did not crash: it restarts with the new sandbox at once."""
    name = spec.get("name", "")
    entry = obs.crash_backoff.get(name, backoff.Backoff())
    sandbox_lost = obs.sandbox is None or not obs.sandbox.ready
    known = obs.hashes.get(c.id)
    changed = known is not None and known != container_hash(spec)
    if backoff.waiting(entry, now) and not sandbox_lost and not changed:
        waiting[name] = ("CrashLoopBackOff", crash_message(pod, name, entry))
        return []
    return _start(pod, spec, obs, init, c.attempt + 1, now, waiting)


def _post_start_due(c: ContainerInfo, obs: Observed) -> List[Action]:
    """A running container whose postStart hook was due when the agent died, before the
    hook began (record ``pending``): run it now. Once begun it never runs again."""
    if obs.hooks.get(c.id, {}).get("postStart") == "pending":
        return [Action("poststart", c.name, attempt=c.attempt, container_id=c.id)]
    return []


def _garbage(names: List[str], groups: Dict[str, List[ContainerInfo]]) -> List[Action]:
    """Containers not in the spec (stop and remove) and exited attempts older than the
    previous one (the previous is kept for lastState and ``logs --previous``)."""
    out = []  # type: List[Action]
    for name, items in sorted(groups.items()):
        if name not in names:
            for c in items:
                if c.state == "running":
                    out.append(Action("kill", name, container_id=c.id, grace=DEFAULT_GRACE, reason="NotInSpec"))
                out.append(Action("remove", name, attempt=c.attempt, container_id=c.id))
            continue
        newest = items[0].attempt
        for c in items[1:]:
            if c.state == "running":
                out.append(Action("kill", name, attempt=c.attempt, container_id=c.id, grace=0.0, reason="Duplicate"))
            if c.attempt < newest - 1 or c.state == "running":
                out.append(Action("remove", name, attempt=c.attempt, container_id=c.id))
    return out


def _terminate(pod: Obj, obs: Observed, reason: str) -> List[Action]:
    """Stop every running container (with the grace), then remove all and the sandbox."""
    running = [c for c in obs.containers if c.state == "running"]
    if running:
        grace = grace_seconds(pod)
        return [Action("kill", c.name, attempt=c.attempt, container_id=c.id, grace=grace, reason=reason) for c in running]
    out = [Action("remove", c.name, attempt=c.attempt, container_id=c.id) for c in obs.containers]
    if obs.sandbox is not None:
        out.append(Action("teardown", reason=reason))
    return out


def plan(pod: Obj, obs: Observed, now: float) -> Plan:
    """The next actions for a pod bound to this node, and the waiting reasons to report."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    inits = [c for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    apps = [c for c in spec.get("containers") or [] if isinstance(c, dict)]
    names = [c.get("name", "") for c in inits + apps]
    groups = by_name(obs.containers)
    last = {name: items[0] for name, items in groups.items()}
    waiting = {}  # type: Dict[str, Tuple[str, str]]

    if meta.get("deletionTimestamp"):
        actions = _terminate(pod, obs, "Deleting")
        if not actions:
            actions = [Action("delete", reason="Deleting")]
        elif all(a.kind != "kill" for a in actions):
            actions.append(Action("delete", reason="Deleting"))
        return Plan(actions, waiting)

    actions = _garbage(names, groups)
    finished = outcome(pod, obs.containers)
    if finished:
        running = [c for c in obs.containers if c.state == "running" and c.name in names]
        for c in running:
            actions.append(Action("kill", c.name, attempt=c.attempt, container_id=c.id, grace=grace_seconds(pod), reason="PodFinished"))
        if not running and obs.sandbox is not None:
            actions.append(Action("teardown", reason="PodFinished"))
        return Plan(actions, waiting)

    if obs.volume_error:
        for name in names:
            if name not in last:
                waiting[name] = ("ContainerCreating", obs.volume_error)
        return Plan(actions, waiting)

    if obs.sandbox is None or not obs.sandbox.ready:
        stale = [c for c in obs.containers if c.state == "running"]
        for c in stale:
            actions.append(Action("kill", c.name, attempt=c.attempt, container_id=c.id, grace=0.0, reason="SandboxChanged"))
        if obs.sandbox is not None:
            actions.append(Action("teardown", reason="SandboxChanged"))
        actions.append(Action("sandbox"))

    policy = restart_policy(pod)
    if any(a.get("name") in last for a in apps):
        inits = []  # an app container has run: the init containers did (as the kubelet decides)
    for spec_c in inits:
        name = spec_c.get("name", "")
        found = last.get(name)
        if found is None:
            actions.extend(_start(pod, spec_c, obs, True, next_attempt(pod, name, []), now, waiting))
            break
        c = found
        if c.state == "running":
            actions.extend(_post_start_due(c, obs))
            break
        if c.state == "created":
            actions.append(Action("remove", name, True, c.attempt, container_id=c.id, reason="NeverStarted"))
            break
        if c.exit_code == 0:
            continue
        if policy != "Never":
            actions.extend(_restart_or_wait(pod, spec_c, c, obs, True, now, waiting))
        break
    else:
        inits = []
    if inits:
        for app in apps:
            waiting[app.get("name", "")] = ("PodInitializing", "")
        return Plan(actions, waiting)

    for spec_c in apps:
        name = spec_c.get("name", "")
        current = last.get(name)
        if current is None:
            actions.extend(_start(pod, spec_c, obs, False, next_attempt(pod, name, []), now, waiting))
            continue
        c = current
        if c.state == "running" and _post_start_due(c, obs):
            actions.extend(_post_start_due(c, obs))  # nothing else until its hook has run
        elif c.state == "running":
            verdict = obs.verdicts.get(name)
            known = obs.hashes.get(c.id)
            if known is not None and known != container_hash(spec_c):
                actions.append(Action("kill", name, attempt=c.attempt, container_id=c.id, grace=grace_seconds(pod), reason="SpecChanged"))
            elif verdict is not None and verdict.kill:
                grace = float(((spec_c.get(verdict.kill + "Probe") or {}).get("terminationGracePeriodSeconds")) or grace_seconds(pod))
                actions.append(Action("kill", name, attempt=c.attempt, container_id=c.id, grace=grace, reason=verdict.kill.capitalize(), message=verdict.message))
        elif c.state == "created":
            actions.append(Action("remove", name, attempt=c.attempt, container_id=c.id, reason="NeverStarted"))
        elif will_restart(policy, c):
            actions.extend(_restart_or_wait(pod, spec_c, c, obs, False, now, waiting))
    return Plan(actions, waiting)
