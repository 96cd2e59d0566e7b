"""The service map: what every node's proxy and DNS need, computed once by the leader.

One etcd key per Service, ``/registry/kubeform/servicemap/<namespace>/<name>``, written
by the reconciler's service-map controller from the Service and its Endpoints, watched by
every agent. Agents never compute cluster-wide decisions: they turn these entries into
kernel rules (kube-proxy's layout) and DNS answers. One key per Service (sharded, not one
document) so a change of one endpoint rewrites one small value and every agent's watch
carries only that.

An entry (JSON; every field always present so readers need no defaults)::

    {"namespace": "demo", "name": "web",
     "type": "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName",
     "clusterIP": "10.96.5.3" | "None" (headless) | "" (none allocated; always for ExternalName),
     "externalName": "my.database.example.com" | "" (not an ExternalName Service),
     "sessionAffinity": "None" | "ClientIP", "affinityTimeout": 10800,
     "externalTrafficPolicy": "Cluster" | "Local", "internalTrafficPolicy": "Cluster" | "Local",
     "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 30080 | 0,
                "endpoints": [{"ip": "10.244.1.5", "port": 8080, "node": "kf-node1"}]}],
     "addresses": [{"ip": "10.244.1.5", "node": "kf-node1", "hostname": "kv-0" | ""}]}

``ports[].endpoints`` are the READY endpoints of that port (a named targetPort resolved
per pod), sorted by ip then port: what the proxy balances over; an empty list means the
Service has no endpoints for that port (the proxy REJECTs). ``addresses`` are the ready
pods behind the Service, sorted by ip, for DNS (a headless Service answers with them,
also when it has no ports); ``hostname`` is set for pods named under this Service
(StatefulSet pods: ``spec.hostname`` + ``spec.subdomain`` = the Service's name), which DNS
answers as ``<hostname>.<svc>.<ns>.svc.<domain>``. With ``publishNotReadyAddresses`` the
not-ready pods are included in both, as upstream.

An ExternalName Service has an entry with ``externalName`` set (lowercased, no trailing
dot), no ClusterIP, no endpoints and no addresses: DNS answers its name with a CNAME to
that target and the proxy makes no rule for it (it has no ClusterIP), as upstream. Entries
written before this field existed lack it; readers use ``.get("externalName")``.

Pure and stdlib-only (Python 3.6): the reconciler writes it, the agents read it.
"""

import json
from typing import Any, Dict, List, Optional, Tuple

Obj = Dict[str, Any]

PREFIX = "/registry/kubeform/servicemap/"
DEFAULT_AFFINITY_TIMEOUT = 10800


def key(namespace: str, name: str) -> str:
    return "%s%s/%s" % (PREFIX, namespace, name)


def name_of(map_key: str) -> Tuple[str, str]:
    """(namespace, name) of a service-map key."""
    rest = map_key[len(PREFIX):]
    namespace, _, name = rest.partition("/")
    return namespace, name


def encode(entry: Obj) -> str:
    """Canonical JSON (sorted keys, compact): equal entries are equal bytes, so an
    unchanged map is never rewritten."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def decode(value: str) -> Optional[Obj]:
    """An entry, or None when the value is not one (never raises: a bad value is skipped)."""
    try:
        obj = json.loads(value)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("ports"), list):
        return None
    return obj


def external_name(value: Any) -> str:
    """spec.externalName as the service map holds it: lowercased, without a trailing dot
    (DNS names are case-insensitive; dnsmasq's cname= takes names without the root dot)."""
    return str(value or "").strip().lower().rstrip(".")


def is_headless(entry: Obj) -> bool:
    return entry.get("clusterIP") in ("None", "", None)


def ready_ips(entry: Obj) -> List[str]:
    """The Service's ready pod IPs, sorted, once each: what headless DNS answers."""
    return sorted(set(str(a.get("ip")) for a in entry.get("addresses") or [] if a.get("ip")))
