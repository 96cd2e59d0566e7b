"""The service map: one entry per Service, from the Service and its Endpoints.

Every node's proxy and DNS read these entries (kubeform/api/servicemap.py has the format
and why it is sharded); the leader computes them here, so agents never make cluster-wide
decisions. An entry is rewritten only when it differs (canonical comparison), removed when
its Service goes, and repaired when someone edits or deletes it by hand.

Endpoints of a Service port: the ready addresses of every subset whose ports include a
port of the same name (Endpoints ports are named as the Service's ports; a single unnamed
port matches the single Service port), sorted by ip and port.

An ExternalName Service gets an entry too, with no ClusterIP, no endpoints and its
``externalName`` (lowercased, without a trailing dot): the proxy skips it (no ClusterIP),
the node DNS answers its name with a CNAME to that target.
"""

import datetime
from typing import Any, Dict, List, Tuple

from kubeform.api import servicemap
from kubeform.api.objects import meta

from ..machinery.actions import CREATE, Action, Delete, Put
from ..machinery.cache import Change
from .base import Controller, View
from .endpoints import ENDPOINTS, SERVICES

Obj = Dict[str, Any]


def _ns_name(key: str, prefix: str) -> Tuple[str, str]:
    namespace, _, name = key[len(prefix):].partition("/")
    return namespace, name


def _ip_order(ip: str) -> Tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in ip.split("."))


def entry(service: Obj, endpoints: Obj) -> Obj:
    """The service-map entry of ``service`` with its ``endpoints`` object ({} if none)."""
    spec = service.get("spec") or {}
    smeta = meta(service)
    subsets = endpoints.get("subsets") or []
    ports = []
    for sp in spec.get("ports") or []:
        name = sp.get("name") or ""
        protocol = sp.get("protocol", "TCP")
        eps = []
        for subset in subsets:
            for ep_port in subset.get("ports") or []:
                if (ep_port.get("name") or "") != name or ep_port.get("protocol", "TCP") != protocol:
                    continue
                for address in subset.get("addresses") or []:
                    eps.append({"ip": address.get("ip"), "port": ep_port.get("port"), "node": address.get("nodeName", "")})
        eps.sort(key=lambda e: (_ip_order(str(e["ip"])), e["port"]))
        ports.append(
            {
                "name": name,
                "protocol": protocol,
                "port": sp.get("port"),
                "nodePort": sp.get("nodePort") or 0,
                "endpoints": eps,
            }
        )
    addresses: Dict[str, Obj] = {}
    for subset in subsets:
        for address in subset.get("addresses") or []:
            ip = str(address.get("ip"))
            addresses.setdefault(
                ip, {"ip": ip, "node": address.get("nodeName", ""), "hostname": address.get("hostname", "")}
            )
    external = spec.get("type") == "ExternalName"
    if external:
        ports = [dict(p, endpoints=[]) for p in ports]
        addresses = {}
    affinity = ((spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}).get("timeoutSeconds")
    return {
        "namespace": smeta.get("namespace") or "default",
        "name": smeta.get("name", ""),
        "type": spec.get("type", "ClusterIP"),
        "clusterIP": "" if external else spec.get("clusterIP") or "",
        "externalName": servicemap.external_name(spec.get("externalName")) if external else "",
        "sessionAffinity": spec.get("sessionAffinity", "None"),
        "affinityTimeout": int(affinity) if isinstance(affinity, int) else servicemap.DEFAULT_AFFINITY_TIMEOUT,
        "externalTrafficPolicy": spec.get("externalTrafficPolicy", "Cluster"),
        "internalTrafficPolicy": spec.get("internalTrafficPolicy", "Cluster"),
        "ports": ports,
        "addresses": [addresses[ip] for ip in sorted(addresses, key=_ip_order)],
    }


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    namespace, name = _ns_name(key, SERVICES)
    map_key = servicemap.key(namespace, name)
    current = view.get(map_key)
    service = view.get(key)
    if service is None:
        return [Delete(map_key, current.mod_revision)] if current is not None else []
    endpoints = view.get(ENDPOINTS + namespace + "/" + name)
    want = entry(service.obj, endpoints.obj if endpoints is not None else {})
    if current is not None and servicemap.encode(current.obj) == servicemap.encode(want):
        return []
    return [Put(map_key, want, current.mod_revision if current is not None else CREATE)]


def related(change: Change, view: View) -> List[str]:
    if change.key.startswith(SERVICES):
        return [change.key]
    if change.key.startswith(ENDPOINTS):
        namespace, name = _ns_name(change.key, ENDPOINTS)
    else:
        namespace, name = servicemap.name_of(change.key)
    return [SERVICES + namespace + "/" + name]


CONTROLLER = Controller(
    name="servicemap",
    primary=SERVICES,
    watches=(SERVICES, ENDPOINTS, servicemap.PREFIX),
    sync=sync,
    related=related,
    workers=2,
)
