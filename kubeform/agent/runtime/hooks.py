"""Container lifecycle hooks (postStart, preStop), as the kubelet runs them.

Why this shape: the rules are the kubelet's. postStart runs right after the container
started, and the container is not Running (nor probed, nor Ready) until it returns; when
it fails the container is killed (event FailedPostStartHook) and restarts per
restartPolicy. preStop runs before the stop signal of every kill with a grace period
(deletion, liveness or startup failure, changed spec, a failed postStart), within that
grace: the signal goes out when the hook returns or when the grace lapses, and the
container then gets what is left of the grace, at least 2 s (the kubelet's minimum);
event FailedPreStopHook when it fails. Handlers: exec (in the container), httpGet (from
the node, to the pod IP unless ``host`` says; any HTTP answer counts as run, only no
answer fails), sleep (``seconds``); tcpSocket is accepted by the API for backward
compatibility and, as in Kubernetes, fails when it runs.

The decisions and messages are pure (tested with data files); ``run`` is the side effect.
A hook runs at most once per container: the manager records it before it starts
(hookrecords.py), so an agent killed mid-hook never runs it again.
"""

import json
import subprocess
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from . import probes

Obj = Dict[str, Any]

POST_START = "postStart"
PRE_STOP = "preStop"
#: The least grace the stop signal gets after a preStop hook (the kubelet's minimum).
MIN_STOP_GRACE = 2.0
#: Read timeout of one httpGet hook request where no grace bounds it (postStart).
HTTP_TIMEOUT = 30.0
KINDS = ("exec", "httpGet", "sleep", "tcpSocket")


class Outcome(NamedTuple):
    ok: bool
    error: str  # why it failed ("" when ok)
    output: str  # what an exec hook printed
    took: float  # seconds


def handler(container: Obj, which: str) -> Optional[Obj]:
    """The container's postStart or preStop handler, None when it has none."""
    h = (container.get("lifecycle") or {}).get(which)
    return h if isinstance(h, dict) and any(k in h for k in KINDS) else None


def kind_of(h: Obj) -> str:
    for k in KINDS:
        if k in h:
            return k
    return ""


def pod_ref(pod: Obj) -> str:
    """A pod as the kubelet names it in messages: name_namespace(uid)."""
    meta = pod.get("metadata") or {}
    return "%s_%s(%s)" % (meta.get("name", ""), meta.get("namespace") or "default", meta.get("uid", ""))


def _go_list(items: List[Any]) -> str:
    return "[" + " ".join(str(x) for x in items) + "]"


def failure_message(h: Obj, container_name: str, pod: Obj, outcome: Outcome) -> str:
    """The event message of a failed hook, in the kubelet's words."""
    kind = kind_of(h)
    where = 'for Container "%s" in Pod "%s"' % (container_name, pod_ref(pod))
    if kind == "exec":
        command = (h.get("exec") or {}).get("command") or []
        # the output quoted as Go's %q does (close enough: JSON's escapes)
        return "Exec lifecycle hook (%s) %s failed - error: %s, message: %s" % (
            _go_list(command), where, outcome.error, json.dumps(outcome.output, ensure_ascii=False))
    if kind == "httpGet":
        return "HTTP lifecycle hook (%s) %s failed - error: %s" % ((h.get("httpGet") or {}).get("path") or "", where, outcome.error)
    if kind == "sleep":
        return "Sleep lifecycle hook (%s) %s failed - error: %s" % ((h.get("sleep") or {}).get("seconds"), where, outcome.error)
    return "Cannot run handler: %s" % outcome.error


def stop_grace(grace: float, hook_took: Optional[float]) -> float:
    """The grace the stop signal gets: all of it without a preStop hook; what the hook
    left of it, at least MIN_STOP_GRACE, after one."""
    if hook_took is None:
        return grace
    return max(grace - hook_took, MIN_STOP_GRACE)


def runs_pre_stop(container: Obj, grace: float) -> bool:
    """Whether a kill runs the container's preStop hook: it has one and the kill has a
    grace period (a kill without grace, as of a duplicate or a lost sandbox, does not)."""
    return grace > 0 and handler(container, PRE_STOP) is not None


def sleep_seconds(h: Obj) -> float:
    try:
        return max(0.0, float((h.get("sleep") or {}).get("seconds") or 0))
    except (TypeError, ValueError):
        return 0.0


# -- the side effect ----------------------------------------------------------------------

def run(
    h: Obj,
    container: Obj,
    pod_ip: str,
    exec_argv: Callable[[List[str]], List[str]],
    timeout: Optional[float],
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
) -> Outcome:
    """Run one handler; ``timeout`` None: as long as it takes (postStart, as the kubelet),
    unless ``cancelled`` says stop (the pod is being deleted)."""
    started = clock()
    deadline = None if timeout is None else started + timeout

    def done(ok: bool, error: str = "", output: str = "") -> Outcome:
        return Outcome(ok, error, output, clock() - started)

    kind = kind_of(h)
    if kind == "exec":
        command = [str(x) for x in (h.get("exec") or {}).get("command") or []]
        if not command:
            return done(False, "no command")
        return _run_exec(exec_argv(command), command, deadline, cancelled, done, clock)
    if kind == "httpGet":
        left = HTTP_TIMEOUT if deadline is None else max(0.1, deadline - clock())
        try:
            ok, message = probes.run_http(h.get("httpGet") or {}, container, pod_ip, left, any_status=True)
        except ValueError as exc:
            ok, message = False, str(exc)
        return done(ok, message)
    if kind == "sleep":
        end = started + sleep_seconds(h)
        while clock() < end:
            if cancelled() or (deadline is not None and clock() >= deadline):
                return done(False, "interrupted after %.0fs" % (clock() - started))
            time.sleep(min(0.2, max(0.0, end - clock())))
        return done(True)
    if kind == "tcpSocket":
        return done(False, "invalid handler: tcpSocket is not supported as a lifecycle hook (deprecated; exec, httpGet and sleep are)")
    return done(False, "invalid handler")


def _run_exec(argv: List[str], command: List[str], deadline: Optional[float], cancelled: Callable[[], bool],
              done: Callable[..., Outcome], clock: Callable[[], float]) -> Outcome:
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True)
    except OSError as exc:
        return done(False, str(exc))
    chunks = []  # type: List[str]
    while True:
        try:
            out, _ = proc.communicate(timeout=0.2)
            chunks.append(out or "")
            break
        except subprocess.TimeoutExpired:
            if cancelled() or (deadline is not None and clock() >= deadline):
                proc.kill()
                out, _ = proc.communicate()
                return done(False, "command '%s' did not finish in time" % " ".join(command), (out or "")[-1000:])
    output = "".join(chunks)[-1000:]
    if proc.returncode == 0:
        return done(True, "", output)
    return done(False, "command '%s' exited with %d: " % (" ".join(command), proc.returncode), output)
