"""What a pod asks of a node: its cpu and memory requests and its host ports.

Why Kubernetes' arithmetic: init containers run one after another before the app
containers, so a pod needs max(sum of app containers, largest init container) of each
resource, plus spec.overhead. Restartable init containers (sidecars, restartPolicy
Always) keep running, so they add to the sum and to every later init container. A
container with a limit and no request requests its limit (the API server's default).

Two figures per resource: the *request*, used to decide whether a pod fits, and the
*non-zero request* used to score nodes, where a container without a request counts as
100m cpu / 200Mi memory (Kubernetes' defaults) so that best-effort pods still spread.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api.quantity import QuantityError, amount, cpu_millis

Obj = Dict[str, Any]

DEFAULT_CPU_MILLIS = 100
DEFAULT_MEMORY_BYTES = 200 * 1024 * 1024

# (protocol, hostIP, hostPort)
HostPort = Tuple[str, str, int]
# (cpu, memory, non-zero cpu, non-zero memory)
Four = Tuple[int, int, int, int]


class PodRequests(NamedTuple):
    cpu: int  # millicores
    memory: int  # bytes
    nonzero_cpu: int
    nonzero_memory: int


class InvalidPod(ValueError):
    """A pod whose requests cannot be read (the message names the field)."""


def _request(container: Obj, resource: str, where: str) -> Optional[int]:
    res = container.get("resources") or {}
    requests = res.get("requests") or {}
    value = requests.get(resource)
    field = "requests"
    if value is None:
        value = (res.get("limits") or {}).get(resource)
        field = "limits"
        if value is None:
            return None
    try:
        got = cpu_millis(value) if resource == "cpu" else amount(value)
    except QuantityError as exc:
        raise InvalidPod("%s.resources.%s.%s: %s" % (where, field, resource, exc)) from None
    if got < 0:
        raise InvalidPod("%s.resources.%s.%s: must not be negative" % (where, field, resource))
    return got


def _container(container: Obj, where: str) -> Four:
    cpu = _request(container, "cpu", where)
    memory = _request(container, "memory", where)
    return (
        cpu or 0,
        memory or 0,
        DEFAULT_CPU_MILLIS if cpu is None else cpu,
        DEFAULT_MEMORY_BYTES if memory is None else memory,
    )


def _add(a: Four, b: Four) -> Four:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


def _max(a: Four, b: Four) -> Four:
    return (max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def pod_requests(pod: Obj) -> PodRequests:
    """The pod's requests as Kubernetes computes them (see the module docstring)."""
    spec = pod.get("spec") or {}
    total: Four = (0, 0, 0, 0)
    for i, c in enumerate(spec.get("containers") or []):
        total = _add(total, _container(c, "spec.containers[%d]" % i))
    sidecars: Four = (0, 0, 0, 0)
    init_peak: Four = (0, 0, 0, 0)
    for i, c in enumerate(spec.get("initContainers") or []):
        own = _container(c, "spec.initContainers[%d]" % i)
        if c.get("restartPolicy") == "Always":
            total = _add(total, own)
            sidecars = _add(sidecars, own)
            running = sidecars
        else:
            running = _add(own, sidecars)
        init_peak = _max(init_peak, running)
    total = _max(total, init_peak)
    overhead = spec.get("overhead") or {}
    if overhead:
        extra = _container({"resources": {"requests": overhead}}, "spec.overhead")
        total = _add(total, (extra[0], extra[1], extra[0], extra[1]))
    return PodRequests(total[0], total[1], total[2], total[3])


def host_ports(pod: Obj) -> List[HostPort]:
    """The (protocol, hostIP, hostPort) the pod binds on its node (app and sidecar containers).

    hostIP defaults to 0.0.0.0 (all addresses) and protocol to TCP, as in Kubernetes.
    """
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or [])
    containers += [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    out: List[HostPort] = []
    for c in containers:
        for p in c.get("ports") or []:
            port = p.get("hostPort")
            if isinstance(port, int) and not isinstance(port, bool) and port > 0:
                out.append((str(p.get("protocol") or "TCP"), str(p.get("hostIP") or "0.0.0.0"), port))
    return out
