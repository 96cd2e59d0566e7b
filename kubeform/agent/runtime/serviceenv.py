"""The Service environment variables a container starts with, as the kubelet names them.

Why: programs written for Kubernetes find their Services through variables such as
``REDIS_MASTER_SERVICE_HOST`` (the docs' guestbook, many Helm charts), set for every
Service of the pod's namespace that exists when the container starts (enableServiceLinks,
default true), plus the ``kubernetes`` Service of the default namespace for every pod.
Pure: the caller gives the service-map entries (kubeform/api/servicemap.py, computed by
the leader; the agent decides nothing cluster-wide) and the pod.

The names and values (kubelet's pkg/kubelet/envvars), for a Service ``redis-master`` with
ClusterIP 10.96.0.11 and ports [6379/TCP "redis"]::

    REDIS_MASTER_SERVICE_HOST=10.96.0.11
    REDIS_MASTER_SERVICE_PORT=6379            # the first port
    REDIS_MASTER_SERVICE_PORT_REDIS=6379      # every named port
    REDIS_MASTER_PORT=tcp://10.96.0.11:6379   # docker links: the first port
    REDIS_MASTER_PORT_6379_TCP=tcp://10.96.0.11:6379
    REDIS_MASTER_PORT_6379_TCP_PROTO=tcp
    REDIS_MASTER_PORT_6379_TCP_PORT=6379
    REDIS_MASTER_PORT_6379_TCP_ADDR=10.96.0.11

Headless Services and Services without a ClusterIP (ExternalName) give none.
"""

from typing import Any, Dict, Iterable, List, Tuple

from kubeform.api import servicemap

Obj = Dict[str, Any]

#: Services of the default namespace every pod gets, whatever enableServiceLinks says
#: (the kubelet's "master services").
MASTER_SERVICES = ("kubernetes",)


def variable_name(name: str) -> str:
    """A Service or port name as a variable name: upper case, dashes to underscores."""
    return name.upper().replace("-", "_")


def _host_port(ip: str, port: Any) -> str:
    return "[%s]:%s" % (ip, port) if ":" in ip else "%s:%s" % (ip, port)


def of_service(entry: Obj) -> List[Tuple[str, str]]:
    """The variables of one service-map entry, in the kubelet's order ([] if it gives none)."""
    ip = str(entry.get("clusterIP") or "")
    ports = [p for p in entry.get("ports") or [] if isinstance(p, dict)]
    if servicemap.is_headless(entry) or not ports:
        return []
    prefix = variable_name(str(entry.get("name", "")))
    out = [(prefix + "_SERVICE_HOST", ip), (prefix + "_SERVICE_PORT", str(ports[0].get("port")))]
    for p in ports:
        if p.get("name"):
            out.append((prefix + "_SERVICE_PORT_" + variable_name(str(p["name"])), str(p.get("port"))))
    for i, p in enumerate(ports):
        protocol = str(p.get("protocol") or "TCP")
        url = "%s://%s" % (protocol.lower(), _host_port(ip, p.get("port")))
        if i == 0:
            out.append((prefix + "_PORT", url))
        head = "%s_PORT_%s_%s" % (prefix, p.get("port"), protocol.upper())
        out += [
            (head, url),
            (head + "_PROTO", protocol.lower()),
            (head + "_PORT", str(p.get("port"))),
            (head + "_ADDR", ip),
        ]
    return out


def links_enabled(pod: Obj) -> bool:
    value = (pod.get("spec") or {}).get("enableServiceLinks")
    return value is not False


def variables(pod: Obj, entries: Iterable[Obj]) -> List[Tuple[str, str]]:
    """Every Service variable ``pod``'s containers get, sorted by Service name.

    The Services of the pod's namespace (when enableServiceLinks is not false) and the
    master services of ``default``; a Service of the pod's own namespace wins over a
    master service of the same name (as the kubelet's map does)."""
    namespace = (pod.get("metadata") or {}).get("namespace") or "default"
    links = links_enabled(pod)
    chosen = {}  # type: Dict[str, Obj]
    for entry in entries:
        name = str(entry.get("name", ""))
        ns = entry.get("namespace") or "default"
        if servicemap.is_headless(entry) or not name:
            continue
        if ns == "default" and name in MASTER_SERVICES:
            chosen.setdefault(name, entry)
        elif ns == namespace and links:
            chosen[name] = entry
    out = []  # type: List[Tuple[str, str]]
    for name in sorted(chosen):
        out.extend(of_service(chosen[name]))
    return out
