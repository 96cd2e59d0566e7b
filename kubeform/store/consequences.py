"""What an apply will do on the cluster, said before it happens.

``kubeform diff`` (and an interactive ``apply``) shows, beside the YAML diff, what the
change sets in motion: "deployment.apps/web: rolling update, 3 pods replaced (maxSurge 1,
maxUnavailable 0)", "statefulset.apps/kv: kv-3 created on kf-node2", "job.batch/pi: 1
pod". The controllers' rules decide the shape (rolling vs recreate, ordinals, one pod per
eligible node, parallelism) and the reconciler's own scheduler, run on a snapshot of the
live nodes and pods, says where new pods would land, so the preview and the cluster agree.

Pure: ``consequences(planned, view)`` takes (live, stored) pairs and a ``ClusterView``
(nodes with readiness, pods); ``view_of`` is the one function that reads the store.
"""

from __future__ import annotations

import copy
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeform.api import kinds, nodes, rollout, selectors
from kubeform.reconciler.scheduler import Snapshot

Obj = dict[str, Any]

#: Tolerations every DaemonSet pod gets (upstream adds them so daemons run on sick nodes).
DAEMON_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
#: At most this many pod names are listed in one line ("kv-0, kv-1, ... (12 pods)").
MAX_NAMES = 6


@dataclass
class ClusterView:
    """What the preview reads: nodes (Ready derived from their leases) and every pod."""

    nodes: list[Obj] = field(default_factory=list)
    pods: list[Obj] = field(default_factory=list)


def view_of(store: Any, now: datetime.datetime) -> ClusterView:
    """The live nodes and pods, read once (the edge: everything else here is pure)."""
    leases = {key.rsplit("/", 1)[1]: o for key, o in store.items(nodes.LEASE_PREFIX)}
    node_objs = []
    for n in store.list(kinds.BY_KIND["Node"]):
        name = (n.get("metadata") or {}).get("name", "")
        node_objs.append(nodes.node_view(n, leases.get(name), now))
    return ClusterView(node_objs, store.list(kinds.BY_KIND["Pod"]))


def consequences(planned: Iterable[tuple[Obj | None, Obj]], view: ClusterView) -> list[str]:
    """One line per object whose change sets something in motion, in the given order."""
    sim = _Placement(view)
    out: list[str] = []
    for live, stored in planned:
        rule = RULES.get(str(stored.get("kind")))
        if rule is None:
            continue
        for text in rule(live, stored, view, sim):
            out.append(f"{_ref(stored)}: {text}")
    return out


# -- placement ---------------------------------------------------------------------------
class _Placement:
    """The scheduler on a snapshot of the cluster; placements made here count for later ones."""

    def __init__(self, view: ClusterView) -> None:
        self.snap = Snapshot(view.nodes, view.pods)
        self.serial = 0

    def place(self, pod: Obj) -> tuple[str | None, str]:
        """The node ``pod`` would go to (and count it there), or None and why not."""
        self.serial += 1
        meta = pod.setdefault("metadata", {})
        meta.setdefault("name", f"kubeform-preview-{self.serial}")
        meta.setdefault("uid", f"kubeform-preview-{self.serial}")
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            if self.snap.node(node) is not None:
                self.snap.assume(pod, node)
            return node, ""
        decision = self.snap.schedule(pod)
        if decision.node:
            self.snap.assume(pod, decision.node)
            return decision.node, ""
        return None, decision.message


def _pod(owner: Obj, template: Obj, name: str | None = None) -> Obj:
    meta = owner.get("metadata") or {}
    tmeta = template.get("metadata") or {}
    pmeta: Obj = {"namespace": meta.get("namespace") or "default", "labels": dict(tmeta.get("labels") or {})}
    if name:
        pmeta["name"] = name
    pmeta["ownerReferences"] = [
        {"kind": owner.get("kind"), "name": meta.get("name"), "uid": f"preview:{_ref(owner)}", "controller": True}
    ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pmeta, "spec": copy.deepcopy(template.get("spec") or {})}


def _placed(sim: _Placement, pods: Sequence[Obj]) -> str:
    """" (kf-node1: 2, kf-node2: 1)", with the pods that fit nowhere said apart."""
    where: dict[str, int] = {}
    pending: dict[str, int] = {}
    for pod in pods:
        node, why = sim.place(pod)
        if node:
            where[node] = where.get(node, 0) + 1
        else:
            pending[why] = pending.get(why, 0) + 1
    parts = []
    if where:
        parts.append(" (" + ", ".join(f"{n}: {c}" for n, c in sorted(where.items())) + ")")
    for why, count in pending.items():
        parts.append(f"; {_pods(count)} would stay Pending: {why}")
    return "".join(parts)


# -- helpers -----------------------------------------------------------------------------
def _ref(obj: Obj) -> str:
    kind = kinds.BY_KIND.get(str(obj.get("kind")))
    name = (obj.get("metadata") or {}).get("name", "")
    return f"{kind.qualified if kind else str(obj.get('kind')).lower()}/{name}"


def _pods(n: int) -> str:
    return f"{n} pod" if n == 1 else f"{n} pods"


def _spec(obj: Obj | None) -> Obj:
    return ((obj or {}).get("spec") or {}) if obj else {}


def _replicas(obj: Obj | None, default: int = 1) -> int:
    value = _spec(obj).get("replicas")
    return int(value) if isinstance(value, int) else default


def _template(obj: Obj | None) -> Obj:
    return copy.deepcopy(_spec(obj).get("template") or {})


def _scaled(old: int, new: int) -> str:
    if new > old:
        return f"scaled {old} -> {new}: {_pods(new - old)} created"
    return f"scaled {old} -> {new}: {_pods(old - new)} deleted"


def _image_changes(live: Obj | None, stored: Obj) -> str:
    """" (app: busybox:1.36 -> busybox:latest)" for containers whose image changed."""
    old = {c.get("name"): c.get("image") for c in (_template(live).get("spec") or {}).get("containers") or []}
    changes = [
        f"{c.get('name')}: {old[c.get('name')]} -> {c.get('image')}"
        for c in (_template(stored).get("spec") or {}).get("containers") or []
        if c.get("name") in old and old[c.get("name")] != c.get("image")
    ]
    return f" ({', '.join(changes)})" if changes else ""


def _names(names: list[str]) -> str:
    if len(names) <= MAX_NAMES:
        return ", ".join(names)
    return ", ".join(names[: MAX_NAMES - 1]) + f", ... {names[-1]} ({len(names)} pods)"


# -- rules per kind ----------------------------------------------------------------------
def _replica_owner(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    """ReplicaSet and ReplicationController: they keep a count; they never roll."""
    new = _replicas(stored)
    if live is None:
        pods = [_pod(stored, _template(stored)) for _ in range(new)]
        return [f"{_pods(new)} created{_placed(sim, pods)}"] if new else []
    out = []
    old = _replicas(live)
    if old != new:
        extra = [_pod(stored, _template(stored)) for _ in range(max(0, new - old))]
        out.append(_scaled(old, new) + _placed(sim, extra))
    if _template(live) != _template(stored):
        out.append("template changed: running pods keep the old one (a ReplicaSet does not replace pods)")
    return out


def _deployment(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    spec = _spec(stored)
    new = _replicas(stored)
    if live is None:
        pods = [_pod(stored, _template(stored)) for _ in range(new)]
        return [f"{_pods(new)} created{_placed(sim, pods)}"] if new else []
    out = []
    old = _replicas(live)
    if _template(live) != _template(stored):
        if spec.get("paused"):
            out.append("paused: the new template waits for `kubeform rollout resume`")
        elif (spec.get("strategy") or {}).get("type") == "Recreate":
            out.append(f"recreate, {_pods(old)} deleted, then {new} created{_image_changes(live, stored)}")
        else:
            surge, unavailable = rollout.fenceposts(stored)  # the Deployment controller's own bounds
            scale = f", scaled {old} -> {new}" if old != new else ""
            out.append(
                f"rolling update, {_pods(new)} replaced (maxSurge {surge}, maxUnavailable {unavailable})"
                f"{scale}{_image_changes(live, stored)}"
            )
    elif old != new:
        extra = [_pod(stored, _template(stored)) for _ in range(max(0, new - old))]
        out.append(_scaled(old, new) + _placed(sim, extra))
    return out


def _statefulset(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    spec = _spec(stored)
    name = (stored.get("metadata") or {}).get("name", "")
    new = _replicas(stored)
    old = 0 if live is None else _replicas(live)
    claims = [((t.get("metadata") or {}).get("name", "")) for t in spec.get("volumeClaimTemplates") or []]
    out = []
    if new > old:
        placed = []
        for i in range(old, new):
            pod = _pod(stored, _template(stored), f"{name}-{i}")
            pod["spec"]["hostname"] = f"{name}-{i}"
            node, why = sim.place(pod)
            placed.append(f"{name}-{i} on {node}" if node else f"{name}-{i} (would stay Pending: {why})")
        order = "at once" if spec.get("podManagementPolicy") == "Parallel" else "in order, each Ready before the next"
        if len(placed) == 1:
            line = placed[0].replace(" ", " created ", 1)
        else:
            line = f"{_names(placed)} created {order}"
        if claims:
            line += "; claims " + ", ".join(f"{c}-{name}-{old}" + (f"..{new - 1}" if new - old > 1 else "") for c in claims)
        out.append(line)
    elif new < old:
        gone = [f"{name}-{i}" for i in range(old - 1, new - 1, -1)]
        out.append(f"{_names(gone)} deleted" + (" (their claims are kept)" if claims else ""))
    if live is not None and _template(live) != _template(stored):
        strategy = spec.get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete":
            out.append("template changed: each pod takes it when it is deleted (OnDelete)")
        else:
            partition = int((strategy.get("rollingUpdate") or {}).get("partition") or 0)
            replaced = [f"{name}-{i}" for i in range(min(old, new) - 1, partition - 1, -1)]
            if replaced:
                out.append(f"rolling update in reverse order: {_names(replaced)} replaced{_image_changes(live, stored)}")
    return out


def _daemonset(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    template = _template(stored)
    on: list[str] = []
    for node in view.nodes:
        node_name = (node.get("metadata") or {}).get("name", "")
        pod = _pod(stored, template)
        spec = pod["spec"]
        spec["tolerations"] = list(spec.get("tolerations") or []) + DAEMON_TOLERATIONS
        spec["affinity"] = _pinned(spec.get("affinity"), node_name)
        placed, _ = sim.place(pod)
        if placed:
            on.append(placed)
    if live is None:
        return [f"{_pods(len(on))}, one on each eligible node ({_names(on)})" if on else "no eligible node: 0 pods"]
    if _template(live) != _template(stored):
        strategy = _spec(stored).get("updateStrategy") or {}
        if strategy.get("type") == "OnDelete":
            return ["template changed: each pod takes it when it is deleted (OnDelete)"]
        unavailable = rollout.scaled_value((strategy.get("rollingUpdate") or {}).get("maxUnavailable", 1), len(on), round_up=True)
        return [f"rolling update, {_pods(len(on))} replaced (maxUnavailable {max(1, unavailable)}){_image_changes(live, stored)}"]
    return []


def _pinned(affinity: Obj | None, node_name: str) -> Obj:
    """The affinity a DaemonSet pod gets: its node by name (metadata.name), as upstream."""
    out = copy.deepcopy(affinity or {})
    node_affinity = out.setdefault("nodeAffinity", {})
    required = node_affinity.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    field = {"key": "metadata.name", "operator": "In", "values": [node_name]}
    terms = required.get("nodeSelectorTerms") or [{}]
    required["nodeSelectorTerms"] = [dict(t, matchFields=[field]) for t in terms]
    return out


def _job(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    if live is not None:
        return []
    spec = _spec(stored)
    completions = spec.get("completions")
    parallelism = int(spec.get("parallelism", 1) or 0)
    first = parallelism if completions is None else min(parallelism, int(completions))
    if spec.get("suspend"):
        return ["suspended: no pod until it is resumed"]
    pods = [_pod(stored, _template(stored)) for _ in range(first)]
    total = "" if completions is None else f" of {completions} completions"
    return [f"{_pods(first)}{total}{_placed(sim, pods)}"]


def _cronjob(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    spec = _spec(stored)
    was = _spec(live)
    if live is None or spec.get("schedule") != was.get("schedule") or bool(spec.get("suspend")) != bool(was.get("suspend")):
        if spec.get("suspend"):
            return ["suspended: no job is started"]
        zone = f" ({spec['timeZone']})" if spec.get("timeZone") else ""
        return [f"a job on schedule '{spec.get('schedule')}'{zone}"]
    return []


def _pod_rule(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    if live is not None:
        return []
    node, why = sim.place(copy.deepcopy(stored))
    return [f"runs on {node}" if node else f"stays Pending: {why}"]


def _selected(view: ClusterView, namespace: str, selector: Obj | None) -> int:
    if not selector:
        return 0
    sel = selectors.from_map(selector)
    return sum(
        1
        for p in view.pods
        if (p.get("metadata") or {}).get("namespace", "default") == namespace
        and not (p.get("metadata") or {}).get("deletionTimestamp")
        and selectors.matches(sel, (p.get("metadata") or {}).get("labels"))
    )


def _service(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    spec = _spec(stored)
    ns = (stored.get("metadata") or {}).get("namespace") or "default"
    if live is not None and _spec(live).get("selector") == spec.get("selector"):
        return []
    if not spec.get("selector"):
        return ["no selector: its endpoints are the ones you write"] if live is None else []
    count = _selected(view, ns, spec.get("selector"))
    before = "" if live is None else f" (was {_selected(view, ns, _spec(live).get('selector'))})"
    return [f"selects {_pods(count)} running now{before}"]


def _uses(pod: Obj, kind: str, name: str) -> bool:
    """Does ``pod`` mount, or read env from, the ConfigMap/Secret ``name``?"""
    spec = pod.get("spec") or {}
    vol_key, ref_key, name_key = (
        ("configMap", "configMapKeyRef", "name") if kind == "ConfigMap" else ("secret", "secretKeyRef", "secretName")
    )
    for v in spec.get("volumes") or []:
        if (v.get(vol_key) or {}).get(name_key) == name:
            return True
    env_from_key = "configMapRef" if kind == "ConfigMap" else "secretRef"
    for c in list(spec.get("containers") or []) + list(spec.get("initContainers") or []):
        if any(((e.get(env_from_key) or {}).get("name") == name) for e in c.get("envFrom") or []):
            return True
        if any((((e.get("valueFrom") or {}).get(ref_key) or {}).get("name") == name) for e in c.get("env") or []):
            return True
    return False


def _config(live: Obj | None, stored: Obj, view: ClusterView, sim: _Placement) -> list[str]:
    if live is None:
        return []
    fields = ("data", "binaryData", "stringData")
    if all(live.get(f) == stored.get(f) for f in fields):
        return []
    meta = stored.get("metadata") or {}
    users = [
        p
        for p in view.pods
        if (p.get("metadata") or {}).get("namespace", "default") == (meta.get("namespace") or "default")
        and _uses(p, str(stored.get("kind")), meta.get("name", ""))
    ]
    if not users:
        return []
    return [f"used by {_pods(len(users))}: mounted files change in place, environment variables only when a pod restarts"]


RULES = {
    "Deployment": _deployment,
    "ReplicaSet": _replica_owner,
    "ReplicationController": _replica_owner,
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "Job": _job,
    "CronJob": _cronjob,
    "Pod": _pod_rule,
    "Service": _service,
    "ConfigMap": _config,
    "Secret": _config,
}
