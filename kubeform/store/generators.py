"""The objects kubectl's imperative verbs make: run, expose, autoscale, create deployment|job|service.

Pure builders (flags in, manifest out, in kubectl's shape) so the CLI only reads the
target and stores the result through the same validation and defaults as ``apply``; each
builder is a data-driven case (tests/data/generators/). A flag kubectl would refuse is
one ``UserError`` naming the flag.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from kubeform.errors import UserError

Obj = dict[str, Any]

RESTART_POLICIES = ("Always", "OnFailure", "Never")
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
PROTOCOLS = ("TCP", "UDP", "SCTP")


# -- flags -----------------------------------------------------------------------------
def parse_pairs(items: Sequence[str], flag: str, *, comma: bool = False) -> dict[str, str]:
    """``K=V`` flags (``--env``; ``--labels a=b,c=d`` with ``comma``) as a mapping, in order."""
    out: dict[str, str] = {}
    for item in items:
        for part in item.split(",") if comma else [item]:
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise UserError(f"expected KEY=VALUE, got {part!r}", field=flag)
            out[key] = value
    return out


def port_number(text: str | int, flag: str) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise UserError(f"invalid port {text!r} (a number 1-65535)", field=flag) from None
    if not 1 <= port <= 65535:
        raise UserError(f"invalid port {port} (a number 1-65535)", field=flag)
    return port


def target_port(text: str, flag: str) -> int | str:
    """A number, or the name of a container port (kubectl's --target-port)."""
    return port_number(text, flag) if text.isdigit() else text


def container_name(image: str) -> str:
    """kubectl's container name from an image: ``registry.k8s.io/hpa-example:1`` -> ``hpa-example``."""
    base = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0].lower()
    name = re.sub(r"[^a-z0-9-]+", "-", base).strip("-")
    return name[:63] or "container"


def _container(name: str, image: str, *, port: int | None = None, env: dict[str, str] | None = None,
               command: list[str] | None = None, args: list[str] | None = None,
               pull_policy: str | None = None) -> Obj:
    c: Obj = {"name": name, "image": image}
    if command:
        c["command"] = list(command)
    if args:
        c["args"] = list(args)
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if pull_policy:
        c["imagePullPolicy"] = pull_policy
    if port is not None:
        c["ports"] = [{"containerPort": port}]
    c["resources"] = {}
    return c


def _meta(name: str, namespace: str | None, labels: dict[str, str] | None = None) -> Obj:
    meta: Obj = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    return meta


# -- run -------------------------------------------------------------------------------
def run_pod(
    name: str,
    image: str,
    *,
    namespace: str | None = None,
    port: str | None = None,
    restart: str = "Always",
    env: Sequence[str] = (),
    labels: str | None = None,
    command: bool = False,
    rest: Sequence[str] = (),
    pull_policy: str | None = None,
) -> Obj:
    """``kubectl run``: a bare Pod labelled ``run=NAME`` (or ``--labels``), one container
    named NAME; words after ``--`` are its args, or its command with ``--command``."""
    if restart not in RESTART_POLICIES:
        raise UserError(f"invalid restart policy {restart!r}", field="--restart", hint="Always, OnFailure or Never")
    if not image:
        raise UserError("--image is required")
    if command and not rest:
        raise UserError("--command needs the command after --", hint="e.g. --command -- sleep 3600")
    label_map = parse_pairs([labels], "--labels", comma=True) if labels else {"run": name}
    container = _container(
        name, image, port=port_number(port, "--port") if port else None, env=parse_pairs(env, "--env"),
        command=list(rest) if command else None, args=None if command else list(rest), pull_policy=pull_policy,
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, label_map),
        "spec": {"containers": [container], "dnsPolicy": "ClusterFirst", "restartPolicy": restart},
    }


# -- create deployment / job / service ---------------------------------------------------
def deployment(
    name: str, images: Sequence[str], *, namespace: str | None = None, replicas: int = 1, port: str | None = None,
    rest: Sequence[str] = (),
) -> Obj:
    """``kubectl create deployment``: labels and selector ``app=NAME``, a container per
    image named after the image; ``--port`` on each; words after ``--`` the first's command."""
    if not images:
        raise UserError("--image is required", hint="e.g. create deployment web --image=nginx")
    if replicas < 0:
        raise UserError("must not be negative", field="--replicas")
    if rest and len(images) > 1:
        raise UserError("a command (after --) needs exactly one --image")
    labels = {"app": name}
    p = port_number(port, "--port") if port else None
    containers = [_container(container_name(img), img, port=p, command=list(rest) or None) for img in images]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": {"containers": containers}},
        },
    }


def job(name: str, image: str, *, namespace: str | None = None, rest: Sequence[str] = ()) -> Obj:
    """``kubectl create job NAME --image``: one container named NAME, restartPolicy Never;
    words after ``--`` are its command."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, namespace),
        "spec": {
            "template": {
                "spec": {"containers": [_container(name, image, command=list(rest) or None)], "restartPolicy": "Never"}
            }
        },
    }


def job_from_cronjob(cronjob: Obj, *, name: str, namespace: str | None = None) -> Obj:
    """``kubectl create job NAME --from=cronjob/X``: the CronJob's jobTemplate, annotated
    ``cronjob.kubernetes.io/instantiate: manual`` and owned by the CronJob."""
    template = copy.deepcopy(((cronjob.get("spec") or {}).get("jobTemplate")) or {})
    tmeta = template.get("metadata") or {}
    meta = _meta(name, namespace or (cronjob.get("metadata") or {}).get("namespace"), tmeta.get("labels"))
    meta["annotations"] = {**(tmeta.get("annotations") or {}), "cronjob.kubernetes.io/instantiate": "manual"}
    cmeta = cronjob.get("metadata") or {}
    meta["ownerReferences"] = [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": cmeta.get("name"), "uid": cmeta.get("uid"),
        "controller": True, "blockOwnerDeletion": True,
    }]
    spec = template.get("spec") or {}
    # the CronJob's stored template carries the selector defaults of its first Job: a new
    # Job gets its own (controller-uid) from the defaults, as the API server gives it
    spec.pop("selector", None)
    for key in ("controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"):
        ((spec.get("template") or {}).get("metadata") or {}).get("labels", {}).pop(key, None)
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec}


def parse_tcp(items: Sequence[str]) -> list[Obj]:
    """``--tcp=PORT[:TARGET]`` as Service ports named ``PORT-TARGET`` (kubectl's names)."""
    ports = []
    for item in items:
        for part in item.split(","):
            port_text, _, target_text = part.partition(":")
            port = port_number(port_text, "--tcp")
            target = target_port(target_text, "--tcp") if target_text else port
            ports.append({"name": f"{port}-{target}", "port": port, "protocol": "TCP", "targetPort": target})
    return ports


def service(
    name: str, kind: str, *, namespace: str | None = None, tcp: Sequence[str] = (), node_port: int | None = None,
    cluster_ip: str | None = None, external_name: str | None = None,
) -> Obj:
    """``kubectl create service clusterip|nodeport|externalname NAME``: selector ``app=NAME``."""
    types = {"clusterip": "ClusterIP", "nodeport": "NodePort", "externalname": "ExternalName"}
    svc_type = types[kind]
    spec: Obj = {"type": svc_type}
    if svc_type == "ExternalName":
        if not external_name:
            raise UserError("--external-name is required for an ExternalName service")
        spec["externalName"] = external_name
    else:
        ports = parse_tcp(tcp)
        if not ports and cluster_ip != "None":
            raise UserError("at least one --tcp=PORT:TARGET is required", hint="e.g. --tcp=5678:8080")
        if node_port is not None:
            if svc_type != "NodePort":
                raise UserError("--node-port is only for nodeport services")
            for p in ports:
                p["nodePort"] = node_port
        spec["ports"] = ports
        spec["selector"] = {"app": name}
        if cluster_ip:
            spec["clusterIP"] = cluster_ip
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, namespace, {"app": name}), "spec": spec}


# -- expose ------------------------------------------------------------------------------
EXPOSABLE = ("Deployment", "ReplicaSet", "ReplicationController", "Pod", "Service")


def selector_of(obj: Obj) -> dict[str, str]:
    """The pods a Service in front of ``obj`` selects (kubectl refuses matchExpressions)."""
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    name = f"{str(kind).lower()} {(obj.get('metadata') or {}).get('name')}"
    if kind == "Pod":
        sel = (obj.get("metadata") or {}).get("labels") or {}
    elif kind in ("ReplicationController", "Service"):
        sel = spec.get("selector") or {}
    else:
        raw = spec.get("selector") or {}
        if raw.get("matchExpressions"):
            raise UserError(f"cannot expose {name}: its selector has matchExpressions, which a Service cannot express",
                            hint="use --selector to give the labels")
        sel = raw.get("matchLabels") or {}
    if not sel:
        raise UserError(f"cannot expose {name}: it has no labels to select its pods by", hint="use --selector")
    return dict(sel)


def ports_of(obj: Obj) -> list[Obj]:
    """The ports of the object's pods (or the Service's own), as kubectl introspects them."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Service":
        return [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"),
                 "targetPort": p.get("targetPort", p.get("port"))} for p in spec.get("ports") or []]
    pod = spec if obj.get("kind") == "Pod" else ((spec.get("template") or {}).get("spec") or {})
    out = []
    for c in pod.get("containers") or []:
        for p in c.get("ports") or []:
            if "containerPort" in p:
                out.append({"port": p["containerPort"], "protocol": p.get("protocol", "TCP"), "targetPort": p["containerPort"]})
    return out


def expose(
    target: Obj,
    *,
    name: str | None = None,
    port: str | None = None,
    target_port_text: str | None = None,
    svc_type: str | None = None,
    protocol: str | None = None,
    selector: str | None = None,
    labels: str | None = None,
    node_port: int | None = None,
    cluster_ip: str | None = None,
) -> Obj:
    """``kubectl expose``: a Service selecting the target's pods, with the target's labels;
    ports from ``--port`` or from the target (several become ``port-1``, ``port-2``)."""
    meta = target.get("metadata") or {}
    kind = str(target.get("kind"))
    if kind not in EXPOSABLE:
        raise UserError(f"cannot expose a {kind}", hint="expose a deployment, replicaset, replicationcontroller, pod or service")
    if svc_type is not None and svc_type not in SERVICE_TYPES:
        raise UserError(f"invalid service type {svc_type!r}", field="--type", hint=", ".join(SERVICE_TYPES))
    if protocol is not None and protocol not in PROTOCOLS:
        raise UserError(f"invalid protocol {protocol!r}", field="--protocol", hint=", ".join(PROTOCOLS))
    sel = parse_pairs([selector], "--selector", comma=True) if selector else selector_of(target)
    if port:
        ports = [{"port": port_number(port, "--port"), "protocol": protocol or "TCP"}]
    else:
        ports = ports_of(target)
        if not ports:
            raise UserError(f"couldn't find port via --port flag or introspection of {kind.lower()} {meta.get('name')}",
                            hint="give --port")
        if protocol:
            for p in ports:
                p["protocol"] = protocol
    for p in ports:
        if target_port_text:
            p["targetPort"] = target_port(target_port_text, "--target-port")
        else:
            p.setdefault("targetPort", p["port"])
    if len(ports) > 1:
        for i, p in enumerate(ports, start=1):
            p["name"] = f"port-{i}"
    if node_port is not None:
        if svc_type != "NodePort":
            raise UserError("--node-port needs --type=NodePort")
        for p in ports:
            p["nodePort"] = node_port
    label_map = parse_pairs([labels], "--labels", comma=True) if labels else dict(meta.get("labels") or {})
    spec: Obj = {"ports": ports, "selector": sel}
    if svc_type:
        spec["type"] = svc_type
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name or str(meta.get("name")), meta.get("namespace"), label_map),
        "spec": spec,
    }


# -- autoscale ---------------------------------------------------------------------------
SCALABLE = {"Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "ReplicationController": "v1"}


def autoscale(target: Obj, *, max_replicas: int, min_replicas: int = -1, cpu_percent: int = -1,
              name: str | None = None) -> Obj:
    """``kubectl autoscale``: an autoscaling/v2 HPA; ``--min`` and ``--cpu-percent`` are
    left out when not given (the defaults then give 1 and 80%), as kubectl leaves them."""
    kind = str(target.get("kind"))
    meta = target.get("metadata") or {}
    if kind not in SCALABLE:
        raise UserError(f"cannot autoscale a {kind}", hint="autoscale a deployment, replicaset, replicationcontroller or statefulset")
    if max_replicas < 1:
        raise UserError("--max is required and must be at least 1", field="--max")
    if min_replicas > max_replicas:
        raise UserError(f"--max={max_replicas} must be at least --min={min_replicas}")
    if min_replicas == 0 or min_replicas < -1:
        raise UserError("must be at least 1", field="--min")
    spec: Obj = {
        "maxReplicas": max_replicas,
        "scaleTargetRef": {"apiVersion": SCALABLE[kind], "kind": kind, "name": meta.get("name")},
    }
    if min_replicas > 0:
        spec["minReplicas"] = min_replicas
    if cpu_percent >= 0:
        spec["metrics"] = [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu_percent}}}]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _meta(name or str(meta.get("name")), meta.get("namespace")),
        "spec": spec,
    }
