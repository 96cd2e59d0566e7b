"""Liveness, readiness and startup probes: a pure state machine and the three runners.

Why split: when a probe is due, what a run of results means (restart the container? Ready?)
is pure and tested with data files (results in, decisions out); running exec, httpGet and
tcpSocket touches the network and processes, so it is a thin layer below. Defaults and
thresholds are Kubernetes': periodSeconds 10, timeoutSeconds 1, successThreshold 1,
failureThreshold 3; readiness starts False, liveness starts True, and neither runs until
the startup probe (if any) has succeeded.
"""

import http.client
import socket
import ssl
import subprocess
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

Obj = Dict[str, Any]

KINDS = ("startup", "liveness", "readiness")
FIELDS = {"startup": "startupProbe", "liveness": "livenessProbe", "readiness": "readinessProbe"}


class ProbeState(NamedTuple):
    successes: int = 0
    failures: int = 0
    result: str = ""  # "" (not decided yet) | "success" | "failure"
    last_run: float = -1.0  # seconds since the epoch, -1 = never
    message: str = ""  # the last failure's output


class Params(NamedTuple):
    initial_delay: float
    period: float
    timeout: float
    success_threshold: int
    failure_threshold: int


def _num(probe: Obj, field: str, default: int, minimum: int) -> int:
    value = probe.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        return default
    return max(value, minimum)


def params(probe: Obj) -> Params:
    return Params(
        float(_num(probe, "initialDelaySeconds", 0, 0)),
        float(_num(probe, "periodSeconds", 10, 1)),
        float(_num(probe, "timeoutSeconds", 1, 1)),
        _num(probe, "successThreshold", 1, 1),
        _num(probe, "failureThreshold", 3, 1),
    )


def initial(kind: str) -> ProbeState:
    """Readiness starts failed (not Ready), liveness succeeded, startup undecided."""
    return ProbeState(result={"readiness": "failure", "liveness": "success"}.get(kind, ""))


def due(probe: Obj, state: ProbeState, started_at: float, now: float) -> bool:
    """Whether to run the probe now: past initialDelaySeconds, a period after the last run."""
    p = params(probe)
    if now < started_at + p.initial_delay:
        return False
    return state.last_run < 0 or now - state.last_run >= p.period


def record(probe: Obj, state: ProbeState, ok: bool, now: float, message: str = "") -> ProbeState:
    """One result: the verdict flips after successThreshold / failureThreshold in a row."""
    p = params(probe)
    if ok:
        successes = state.successes + 1
        result = "success" if successes >= p.success_threshold else state.result
        return ProbeState(successes, 0, result, now, "")
    failures = state.failures + 1
    result = "failure" if failures >= p.failure_threshold else state.result
    return ProbeState(0, failures, result, now, message)


class Verdict(NamedTuple):
    started: bool  # the startup probe (if any) has succeeded
    ready: bool  # counts for ContainersReady/Ready
    kill: str  # "" or "liveness" / "startup": restart the container
    message: str


def verdict(container: Obj, states: Dict[str, ProbeState], running: bool) -> Verdict:
    """What the probe states of one running container mean. Pure."""
    if not running:
        return Verdict(False, False, "", "")
    startup = states.get("startup", initial("startup"))
    started = "startupProbe" not in container or startup.result == "success"
    if "startupProbe" in container and startup.result == "failure":
        return Verdict(False, False, "startup", startup.message)
    if not started:
        return Verdict(False, False, "", "")
    live = states.get("liveness", initial("liveness"))
    if "livenessProbe" in container and live.result == "failure":
        return Verdict(True, False, "liveness", live.message)
    ready = True
    if "readinessProbe" in container:
        ready = states.get("readiness", initial("readiness")).result == "success"
    return Verdict(True, ready, "", "")


def due_probes(container: Obj, states: Dict[str, ProbeState], started_at: float, now: float) -> List[str]:
    """The probe kinds to run now for a running container (startup gates the others)."""
    out = []  # type: List[str]
    startup = states.get("startup", initial("startup"))
    if "startupProbe" in container and startup.result != "success":
        if startup.result != "failure" and due(container["startupProbe"], startup, started_at, now):
            out.append("startup")
        return out
    for kind in ("liveness", "readiness"):
        probe = container.get(FIELDS[kind])
        if probe and due(probe, states.get(kind, initial(kind)), started_at, now):
            out.append(kind)
    return out


# -- runners (side effects) --------------------------------------------------------------

def resolve_port(container: Obj, port: Any) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    text = str(port)
    if text.isdigit():
        return int(text)
    for p in container.get("ports") or []:
        if p.get("name") == text:
            return int(p.get("containerPort", 0))
    raise ValueError("port %r not found in the container's ports" % text)


def run_http(action: Obj, container: Obj, pod_ip: str, timeout: float, any_status: bool = False) -> Tuple[bool, str]:
    """httpGet from the node into the pod: 200-399 succeeds (redirects are not followed);
    with ``any_status`` every answer does (a lifecycle hook fails only when none comes)."""
    host = action.get("host") or pod_ip
    port = resolve_port(container, action.get("port", 80))
    path = action.get("path") or "/"
    if not path.startswith("/"):
        path = "/" + path
    headers = {"User-Agent": "kube-probe/1.30", "Accept": "*/*"}
    for h in action.get("httpHeaders") or []:
        headers[str(h.get("name", ""))] = str(h.get("value", ""))
    if str(action.get("scheme", "HTTP")).upper() == "HTTPS":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)  # type: http.client.HTTPConnection
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest("GET", path, skip_host="Host" in headers or "host" in headers)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read(1024)
        if any_status or 200 <= resp.status < 400:
            return True, ""
        del body
        return False, "HTTP probe failed with statuscode: %d" % resp.status
    except (OSError, http.client.HTTPException) as exc:
        return False, 'Get "%s://%s:%d%s": %s' % (
            str(action.get("scheme", "HTTP")).lower(), host, port, path, exc
        )
    finally:
        conn.close()


def run_tcp(action: Obj, container: Obj, pod_ip: str, timeout: float) -> Tuple[bool, str]:
    host = action.get("host") or pod_ip
    port = resolve_port(container, action.get("port", 0))
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.close()
        return True, ""
    except OSError as exc:
        return False, "dial tcp %s:%d: %s" % (host, port, exc)


def run_exec(argv: List[str], timeout: float) -> Tuple[bool, str]:
    """An exec probe through the driver's host command; exit 0 succeeds."""
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            universal_newlines=True,
        )
    except subprocess.TimeoutExpired:
        return False, "command timed out after %ss" % timeout
    except OSError as exc:
        return False, str(exc)
    if proc.returncode == 0:
        return True, ""
    return False, (proc.stdout or "").strip()[:1000] or "command exited %d" % proc.returncode


def run_probe(probe: Obj, container: Obj, pod_ip: str, exec_argv: Optional[List[str]]) -> Tuple[bool, str]:
    """Run one probe of any handler kind; (succeeded, failure message)."""
    timeout = params(probe).timeout
    try:
        if "exec" in probe:
            if exec_argv is None:
                return False, "no container to exec into"
            return run_exec(exec_argv, timeout)
        if "httpGet" in probe:
            return run_http(probe["httpGet"] or {}, container, pod_ip, timeout)
        if "tcpSocket" in probe:
            return run_tcp(probe["tcpSocket"] or {}, container, pod_ip, timeout)
    except ValueError as exc:
        return False, str(exc)
    return False, "probe handler not supported (exec, httpGet and tcpSocket are)"
