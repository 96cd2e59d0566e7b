"""What ``apply`` would store for a manifest, given the live object. Pure.

Apply is declarative: the manifest replaces what the user owns (labels, annotations, spec,
data), while what the cluster owns is carried over from the live object (uid,
creationTimestamp, generation, status, owner references, an allocated ClusterIP or
NodePort, a scheduled nodeName, and replicas when the manifest leaves them to an HPA).
Then server-side defaults are applied, so ``diff`` compares like with like and an
unchanged manifest is a no-op.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubeform.api import defaults
from kubeform.errors import UserError
from kubeform.store import allocation

Obj = dict[str, Any]

CREATED, CONFIGURED, UNCHANGED = "created", "configured", "unchanged"

# deletionTimestamp/deletionGracePeriodSeconds: applying an object being deleted must not
# bring it back (the apiserver never lets a client clear them)
SERVER_META = (
    "uid", "creationTimestamp", "generation", "ownerReferences", "finalizers",
    "deletionTimestamp", "deletionGracePeriodSeconds",
)
WITH_GENERATION = {
    "Pod", "ReplicationController", "Service", "Namespace", "Deployment", "ReplicaSet",
    "DaemonSet", "StatefulSet", "Job", "CronJob", "HorizontalPodAutoscaler",
}  # fmt: skip
IMMUTABLE_SELECTOR = {"Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job"}


@dataclass
class Allocations:
    """ClusterIPs and NodePorts taken, updated as a batch of Services is planned."""

    cidr: str = allocation.DEFAULT_SERVICE_CIDR
    ips: set[str] = field(default_factory=set)
    ports: set[int] = field(default_factory=set)
    new_ips: list[str] = field(default_factory=list)
    new_ports: list[int] = field(default_factory=list)


def strip_volatile(obj: Obj | None) -> Obj | None:
    """The object without resourceVersion (changes on every write, never in a diff)."""
    if obj is None:
        return None
    out = dict(obj)
    out["metadata"] = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "resourceVersion"}
    return out


def _carry_over(desired: Obj, live: Obj) -> None:
    """Copy the cluster-owned parts of ``live`` into ``desired`` (in place)."""
    dmeta, lmeta = desired.setdefault("metadata", {}), live.get("metadata") or {}
    for key in SERVER_META:
        if key in lmeta and key not in dmeta:
            dmeta[key] = copy.deepcopy(lmeta[key])
    if "status" in live:
        desired["status"] = copy.deepcopy(live["status"])
    kind = desired.get("kind")
    dspec, lspec = desired.get("spec"), live.get("spec") or {}
    if not isinstance(dspec, dict):
        return
    if "replicas" not in dspec and "replicas" in lspec and kind != "HorizontalPodAutoscaler":
        dspec["replicas"] = lspec["replicas"]
    if kind == "Pod" and "nodeName" in lspec and "nodeName" not in dspec:
        dspec["nodeName"] = lspec["nodeName"]
    if kind == "Job" and "selector" not in dspec and lspec.get("selector") and not dspec.get("manualSelector"):
        # the selector made from the uid on create stays (one made by an older default
        # names other labels: a new one would let go of the Job's pods)
        dspec["selector"] = copy.deepcopy(lspec["selector"])
    if kind == "Service":
        _carry_service(dspec, lspec)


def _carry_service(dspec: Obj, lspec: Obj) -> None:
    """Keep the allocated ClusterIP and NodePorts; changing a ClusterIP is refused."""
    live_ip = lspec.get("clusterIP")
    want_ip = dspec.get("clusterIP")
    if want_ip in (None, "") and live_ip:
        dspec["clusterIP"] = live_ip
        if "clusterIPs" in lspec:
            dspec["clusterIPs"] = list(lspec["clusterIPs"])
    elif want_ip and live_ip and want_ip != live_ip:
        raise UserError(
            f"field is immutable (live value {live_ip}); delete and re-create the service",
            field="spec.clusterIP",
        )
    live_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort") for p in lspec.get("ports") or []}
    if dspec.get("type") in ("NodePort", "LoadBalancer"):
        for p in dspec.get("ports") or []:
            np = live_ports.get((p.get("port"), p.get("protocol", "TCP")))
            if "nodePort" not in p and np:
                p["nodePort"] = np


def _allocate(obj: Obj, live: Obj | None, alloc: Allocations) -> None:
    """Give a Service its ClusterIP and NodePorts if it has none yet."""
    spec = obj["spec"]
    meta = obj["metadata"]
    seed = f"{meta.get('namespace')}/{meta.get('name')}"
    live_spec = (live or {}).get("spec") or {}
    if spec.get("type") != "ExternalName":
        ip = spec.get("clusterIP")
        if ip in (None, ""):
            ip = allocation.allocate_ip(alloc.cidr, alloc.ips, seed)
            alloc.ips.add(ip)
            alloc.new_ips.append(ip)
            spec["clusterIP"] = ip
            spec["clusterIPs"] = [ip]
        elif ip != "None" and ip != live_spec.get("clusterIP"):
            allocation.check_ip(alloc.cidr, ip)
            if ip in alloc.ips:
                raise UserError(f"ClusterIP {ip} is already allocated", field="spec.clusterIP")
            alloc.ips.add(ip)
            alloc.new_ips.append(ip)
        spec.setdefault("clusterIPs", [ip])
    live_nps = {p.get("nodePort") for p in live_spec.get("ports") or [] if p.get("nodePort")}
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        for i, p in enumerate(spec.get("ports") or []):
            np = p.get("nodePort")
            if not np:
                np = allocation.allocate_port(alloc.ports, f"{seed}/{i}")
                p["nodePort"] = np
            elif np in live_nps:
                continue
            elif np in alloc.ports:
                raise UserError(f"NodePort {np} is already allocated", field=f"spec.ports[{i}].nodePort")
            alloc.ports.add(np)
            alloc.new_ports.append(np)


def released(live: Obj | None, stored: Obj | None) -> tuple[list[str], list[int]]:
    """ClusterIPs and NodePorts the live Service held that ``stored`` no longer uses."""
    if not live or live.get("kind") != "Service":
        return [], []
    lspec = live.get("spec") or {}
    sspec = (stored or {}).get("spec") or {}
    ips = [] if lspec.get("clusterIP") in (None, "", "None", sspec.get("clusterIP")) else [lspec["clusterIP"]]
    keep = {p.get("nodePort") for p in sspec.get("ports") or []}
    ports = [p["nodePort"] for p in lspec.get("ports") or [] if p.get("nodePort") and p["nodePort"] not in keep]
    return ips, ports


def check_immutable(stored: Obj, live: Obj) -> None:
    """Refuse what the apiserver refuses on update: a Secret's ``type`` changed, or the
    contents (or the flag itself) of a Secret or ConfigMap that is ``immutable: true``."""
    hint = "delete and re-create the object"
    if live.get("kind") == "Secret" and (stored.get("type") or "Opaque") != (live.get("type") or "Opaque"):
        raise UserError("field is immutable", field="type", hint=hint)
    if live.get("immutable") is not True:
        return
    if stored.get("immutable") is not True:
        raise UserError("field is immutable when `immutable` is set", field="immutable", hint=hint)
    for name in ("data", "binaryData"):
        if (stored.get(name) or {}) != (live.get(name) or {}):
            raise UserError("field is immutable when `immutable` is set", field=name, hint=hint)


def plan_object(
    desired_raw: Obj,
    live: Obj | None,
    *,
    now: str,
    new_uid: Callable[[], str],
    alloc: Allocations | None = None,
) -> tuple[Obj, str]:
    """(object to store, created|configured|unchanged) for one manifest."""
    desired = defaults.plain(desired_raw)
    kind = desired.get("kind")
    meta = desired.setdefault("metadata", {})
    want_rv = meta.pop("resourceVersion", None)
    if live is not None:
        live_rv = (live.get("metadata") or {}).get("resourceVersion")
        if want_rv and live_rv and str(want_rv) != str(live_rv):
            raise UserError(
                f"conflict: the manifest is based on resourceVersion {want_rv}, "
                f"the live object is at {live_rv}",
                field="metadata.resourceVersion",
                hint="get the object again and re-apply your change",
            )
        _carry_over(desired, live)
        if kind in IMMUTABLE_SELECTOR and desired_raw.get("spec", {}).get("selector") is not None:
            lsel = (live.get("spec") or {}).get("selector")
            if lsel is not None and defaults.plain(desired_raw["spec"]["selector"]) != lsel and kind != "Job":
                raise UserError("field is immutable; delete and re-create the object", field="spec.selector")
    elif want_rv:
        raise UserError(
            "conflict: the manifest names a resourceVersion but the object does not exist",
            field="metadata.resourceVersion",
        )
    else:
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = now
    for k in ("uid", "creationTimestamp"):
        if live is None:
            continue
        meta.setdefault(k, (live.get("metadata") or {}).get(k))
    stored = defaults.apply_defaults(desired)
    if live is not None and kind in ("Secret", "ConfigMap"):
        check_immutable(stored, live)
    if kind == "Service" and alloc is not None:
        _allocate(stored, live, alloc)
    smeta = stored["metadata"]
    if kind in WITH_GENERATION:
        if live is None:
            smeta["generation"] = 1
        else:
            gen = int((live.get("metadata") or {}).get("generation", 1))
            changed = stored.get("spec") != live.get("spec")
            smeta["generation"] = gen + 1 if changed else gen
    if live is None:
        return stored, CREATED
    if stored == strip_volatile(live):
        return stored, UNCHANGED
    return stored, CONFIGURED
