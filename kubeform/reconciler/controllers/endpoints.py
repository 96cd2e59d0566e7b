"""Endpoints: a v1 Endpoints object per Service with a selector, kept equal to its pods.

As Kubernetes' endpoints controller: the pods of the Service's namespace that its
selector matches, that have an IP and are neither finished nor being deleted, become
addresses: ``addresses`` when Ready, ``notReadyAddresses`` otherwise (every one in
``addresses`` with ``publishNotReadyAddresses``). Each address names its pod
(``targetRef``) and node, and carries ``hostname`` when the pod is named under this
Service (``spec.hostname`` with ``spec.subdomain`` = the Service's name: StatefulSet pods).
Ports: one per Service port, named as the Service port, with the targetPort resolved per
pod (a named targetPort looks the name up in the pod's containers; a pod without it is
left out of that port). Addresses with the same ports are packed into one subset, in a
stable order, so an unchanged set of pods is never rewritten.

A Service without a selector keeps the Endpoints its user wrote; when a Service goes,
its Endpoints go with it. One exception, for kubeform's own node-local daemons (the
cluster DNS: dnsmasq on every node, the ``kube-dns`` Service that ``up`` writes): a
Service annotated ``kubeform.io/endpoints-from: nodes`` has one ready address per
registered node, that node's InternalIP with its ``nodeName``, so that with
``internalTrafficPolicy: Local`` each node's proxy sends the Service to its own daemon.
"""

import copy
import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import selectors
from kubeform.api.objects import meta, pod_is_ready

from ..machinery.actions import Action, Create, Delete, Put
from ..machinery.cache import Change
from .base import Controller, View

Obj = Dict[str, Any]

SERVICES = "/registry/services/"
ENDPOINTS = "/registry/endpoints/"
PODS = "/registry/pods/"
NODES = "/registry/minions/"
#: Annotation of a selector-less Service whose endpoints are the nodes themselves.
FROM_NODES = "kubeform.io/endpoints-from"


def _ns_name(key: str, prefix: str) -> Tuple[str, str]:
    namespace, _, name = key[len(prefix):].partition("/")
    return namespace, name


def resolve_port(pod: Obj, target: Any) -> Optional[int]:
    """The container port a Service port's targetPort means in ``pod`` (None: not there)."""
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and isinstance(p.get("containerPort"), int):
                return int(p["containerPort"])
    return None


def _serves(pod: Obj) -> bool:
    status = pod.get("status") or {}
    return bool(status.get("podIP")) and status.get("phase") not in ("Succeeded", "Failed") and not meta(pod).get(
        "deletionTimestamp"
    )


def _address(pod: Obj, service_name: str) -> Obj:
    pmeta = meta(pod)
    spec = pod.get("spec") or {}
    address: Obj = {"ip": (pod.get("status") or {}).get("podIP")}
    if spec.get("hostname") and spec.get("subdomain") == service_name:
        address["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        address["nodeName"] = spec["nodeName"]
    address["targetRef"] = {
        "kind": "Pod",
        "namespace": pmeta.get("namespace") or "default",
        "name": pmeta.get("name", ""),
        "uid": pmeta.get("uid", ""),
    }
    return address


def subsets(service: Obj, pods: List[Obj]) -> List[Obj]:
    """The Endpoints subsets of ``service`` over ``pods`` (already those it selects)."""
    spec = service.get("spec") or {}
    name = meta(service).get("name", "")
    publish = bool(spec.get("publishNotReadyAddresses"))
    groups: Dict[str, Tuple[List[Obj], List[Obj], List[Obj]]] = {}
    for pod in pods:
        if not _serves(pod):
            continue
        ports = []
        for sp in spec.get("ports") or []:
            port = resolve_port(pod, sp.get("targetPort", sp.get("port")))
            if port is None:
                continue
            entry: Obj = {"port": port, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            ports.append(entry)
        if spec.get("ports") and not ports:
            continue
        signature = repr(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        ready, not_ready, _ = groups.setdefault(signature, ([], [], ports))
        (ready if publish or pod_is_ready(pod) else not_ready).append(_address(pod, name))
    out = []
    for signature in sorted(groups):
        ready, not_ready, ports = groups[signature]
        subset: Obj = {}
        if ready:
            subset["addresses"] = sorted(ready, key=_address_order)
        if not_ready:
            subset["notReadyAddresses"] = sorted(not_ready, key=_address_order)
        if ports:
            subset["ports"] = sorted(ports, key=lambda p: (p.get("name", ""), p["port"]))
        out.append(subset)
    return out


def _address_order(address: Obj) -> Tuple[Any, ...]:
    return (tuple(int(x) if x.isdigit() else 0 for x in str(address.get("ip")).split(".")), address["targetRef"]["name"])


def node_subsets(service: Obj, node_objs: List[Obj]) -> List[Obj]:
    """One ready address per node (InternalIP, nodeName), the Service's ports by number."""
    addresses = []
    for node in node_objs:
        ip = ""
        for a in (node.get("status") or {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                ip = str(a.get("address") or "")
        if ip:
            addresses.append({"ip": ip, "nodeName": meta(node).get("name", "")})
    ports = []
    for sp in (service.get("spec") or {}).get("ports") or []:
        target = sp.get("targetPort", sp.get("port"))
        if not isinstance(target, int):
            continue
        entry = {"port": target, "protocol": sp.get("protocol", "TCP")}  # type: Obj
        if sp.get("name"):
            entry["name"] = sp["name"]
        ports.append(entry)
    if not addresses:
        return []
    subset = {"addresses": sorted(addresses, key=lambda a: (tuple(int(x) for x in a["ip"].split(".") if x.isdigit()), a["nodeName"]))}  # type: Obj
    if ports:
        subset["ports"] = sorted(ports, key=lambda p: (p.get("name", ""), p["port"]))
    return [subset]


def selected_pods(view: View, namespace: str, selector: Dict[str, str]) -> List[Obj]:
    sel = selectors.from_map(selector)
    return [
        i.obj for i in view.list(PODS + namespace + "/") if selectors.matches(sel, meta(i.obj).get("labels"))
    ]


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    namespace, name = _ns_name(key, SERVICES)
    ep_key = ENDPOINTS + namespace + "/" + name
    current = view.get(ep_key)
    service_item = view.get(key)
    if service_item is None:
        return [Delete(ep_key, current.mod_revision)] if current is not None else []
    service = service_item.obj
    selector = (service.get("spec") or {}).get("selector")
    if (meta(service).get("annotations") or {}).get(FROM_NODES) == "nodes" and not selector:
        want = node_subsets(service, [i.obj for i in view.list(NODES)])
    elif not selector:
        return []  # the user's own Endpoints (or none)
    else:
        want = subsets(service, selected_pods(view, namespace, selector))
    labels = dict(meta(service).get("labels") or {})
    if current is None:
        obj: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        }
        if want:
            obj["subsets"] = want
        return [Create(ENDPOINTS, obj)]
    have = current.obj
    if (have.get("subsets") or []) == want and (meta(have).get("labels") or {}) == labels:
        return []
    updated = copy.deepcopy(have)
    updated["metadata"] = dict(meta(have), labels=labels)
    if want:
        updated["subsets"] = want
    else:
        updated.pop("subsets", None)
    return [Put(ep_key, updated, current.mod_revision)]


def related(change: Change, view: View) -> List[str]:
    """A pod change resyncs the Services of its namespace whose selector matches it (old or
    new labels); an Endpoints change resyncs its Service (repairs edits by hand)."""
    if change.key.startswith(SERVICES):
        return [change.key]
    if change.key.startswith(ENDPOINTS):
        namespace, name = _ns_name(change.key, ENDPOINTS)
        return [SERVICES + namespace + "/" + name]
    if change.key.startswith(NODES):
        return [
            i.key
            for i in view.list(SERVICES)
            if (meta(i.obj).get("annotations") or {}).get(FROM_NODES) == "nodes"
        ]
    namespace, _ = _ns_name(change.key, PODS)
    labels = [meta(i.obj).get("labels") for i in (change.old, change.new) if i is not None]
    out = []
    for item in view.list(SERVICES + namespace + "/"):
        selector = (item.obj.get("spec") or {}).get("selector")
        if selector and any(selectors.matches(selectors.from_map(selector), lab) for lab in labels):
            out.append(item.key)
    return out


CONTROLLER = Controller(
    name="endpoints",
    primary=SERVICES,
    watches=(SERVICES, ENDPOINTS, PODS, NODES),
    sync=sync,
    related=related,
    workers=2,
)
