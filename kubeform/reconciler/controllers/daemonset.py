"""DaemonSet: one pod on every node that should run it, as Kubernetes decides.

Which nodes (upstream's NodeShouldRunDaemonPod): the pod the DaemonSet would put on the
node, with the tolerations every daemon pod gets (not-ready and unreachable NoExecute;
disk-, memory-, pid-pressure and unschedulable NoSchedule; network-unavailable for
hostNetwork pods), must pass the scheduler's own node filters (filters.py: cordon, taints,
nodeSelector and required node affinity). A node whose taints it does not tolerate only
for NoSchedule keeps a pod that is already there ("should continue running"); an
untolerated NoExecute taint removes it. Node readiness does not matter: daemon pods
tolerate a not-ready node, as upstream.

Per node: no pod where one should run -> create it, bound to the node (``spec.nodeName``,
plus the node-name affinity upstream puts on daemon pods); a Failed pod -> deleted (the
next sync creates its replacement); more than one -> the oldest stays; a pod on a node
that should not run it, or on a Node that no longer exists -> deleted (the latter removed
at once: no agent is left to finish a graceful deletion, as upstream's pod GC does).

Updates: each pod carries ``controller-revision-hash`` (the hash of the pod template and
collisionCount, as upstream) and ``pod-template-generation``. Each template is recorded
as a ControllerRevision ``<set>-<hash>`` (revisions.py: numbered, renumbered on a
rollback, trimmed to revisionHistoryLimit), what ``kubeform rollout history|undo`` read. ``OnDelete``: old pods stay until someone
deletes them. ``RollingUpdate``: old pods that are not available are replaced at once;
available ones are deleted while fewer than ``maxUnavailable`` (a number, or a percentage
of desiredNumberScheduled rounded up) nodes lack an available pod; a new pod is created
once the old one is gone. With ``maxSurge`` > 0 (Kubernetes 1.25+; maxUnavailable may then
be 0) the new pod starts beside the old one, on at most maxSurge nodes at a time, and
the old pod is deleted once the new one is available.

Status as upstream: desiredNumberScheduled, currentNumberScheduled, numberMisscheduled,
numberReady, numberAvailable (ready for minReadySeconds; a requeue when one becomes
available), updatedNumberScheduled, numberUnavailable, observedGeneration.
"""

import copy
import datetime
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from kubeform.api import nodes
from kubeform.api.nodes import parse_time
from kubeform.api.objects import condition, controller_ref, meta, pod_is_ready, pod_template_hash

from .. import podcontrol
from ..machinery.actions import Action, Delete, Put, Requeue
from ..machinery.cache import Change, Item
from ..poddeletion import delete_pod
from ..scheduler import filters
from ..scheduler.nodeinfo import NodeInfo
from ..scheduler.podview import PodView, pod_view
from ..scheduler.resources import InvalidPod
from . import revisions
from .base import Controller, View

Obj = Dict[str, Any]

DAEMONSETS = "/registry/daemonsets/"
PODS = podcontrol.PODS
COMPONENT = "daemonset-controller"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"

#: (key, effect) of the tolerations upstream adds to every daemon pod.
DAEMON_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
)
HOST_NETWORK_TOLERATION = ("node.kubernetes.io/network-unavailable", "NoSchedule")


def ds_key(namespace: str, name: str) -> str:
    return "%s%s/%s" % (DAEMONSETS, namespace, name)


# -- the pod a DaemonSet puts on a node ----------------------------------------------------


def with_daemon_tolerations(spec: Obj) -> None:
    """Add upstream's daemon-pod tolerations to a pod spec, in place (each once)."""
    tolerations = list(spec.get("tolerations") or [])
    wanted = list(DAEMON_TOLERATIONS)
    if spec.get("hostNetwork"):
        wanted.append(HOST_NETWORK_TOLERATION)
    for key, effect in wanted:
        if not any(t.get("key") == key and t.get("effect") == effect and t.get("operator") == "Exists" for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    spec["tolerations"] = tolerations


def with_node_affinity(spec: Obj, node: str) -> None:
    """Upstream's ReplaceDaemonSetPodNodeNameNodeAffinity: the required node affinity
    becomes the one term ``metadata.name In [node]`` (other affinity kept), in place."""
    affinity = copy.deepcopy(spec.get("affinity") or {})
    node_affinity = affinity.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
    }
    spec["affinity"] = affinity


def template_hash(ds: Obj) -> str:
    spec = ds.get("spec") or {}
    count = (ds.get("status") or {}).get("collisionCount")
    return pod_template_hash(spec.get("template") or {}, count if isinstance(count, int) else None)


def new_pod(ds: Obj, node: str, hash_value: str) -> Obj:
    """The pod ``ds`` creates on ``node``: template, revision labels, tolerations, bound."""
    spec = ds.get("spec") or {}
    labels = {HASH_LABEL: hash_value}
    generation = meta(ds).get("generation")
    if generation is not None:
        labels[GENERATION_LABEL] = str(generation)
    pod = podcontrol.pod_from_template(ds, spec.get("template") or {}, extra_labels=labels)
    pspec = pod["spec"]
    with_daemon_tolerations(pspec)
    with_node_affinity(pspec, node)
    pspec["nodeName"] = node
    return pod


def eligibility_pod(ds: Obj) -> Obj:
    """The pod the node filters judge: the template with the daemon tolerations."""
    spec = copy.deepcopy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    with_daemon_tolerations(spec)
    return {"metadata": {"name": meta(ds).get("name", ""), "namespace": meta(ds).get("namespace", "")}, "spec": spec}


class Placement(NamedTuple):
    should_run: bool
    should_continue: bool


def placement(view_of_pod: PodView, node: NodeInfo) -> Placement:
    """Upstream's NodeShouldRunDaemonPod with the scheduler's node filters."""
    if filters.affinity(view_of_pod, node) is not None:
        return Placement(False, False)
    if filters.schedulable(view_of_pod, node) is not None:
        return Placement(False, True)  # cordoned and not tolerated: no new pod, keep the old
    if filters.taints(view_of_pod, node) is not None:
        untolerated_no_execute = any(
            t[2] == "NoExecute" and not filters.tolerated(view_of_pod.tolerations, t) for t in node.taints
        )
        return Placement(False, not untolerated_no_execute)
    return Placement(True, True)


# -- pods: where they are, whether they count ----------------------------------------------


def target_node(pod: Obj) -> str:
    """The node a daemon pod is for: spec.nodeName, else its node-name affinity."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            values = field.get("values") or []
            if field.get("key") == "metadata.name" and field.get("operator") == "In" and len(values) == 1:
                return str(values[0])
    return ""


def available_in(pod: Obj, min_ready: int, now: datetime.datetime) -> Optional[float]:
    """Seconds until a ready pod counts as available (0: it is; None: not ready)."""
    if not pod_is_ready(pod):
        return None
    if min_ready <= 0:
        return 0.0
    since = parse_time(str((condition(pod, "Ready") or {}).get("lastTransitionTime") or ""))
    if since is None:
        return 0.0
    return max(0.0, min_ready - (now - since).total_seconds())


def scaled(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent (maxUnavailable) against ``total``, as upstream's
    GetScaledValueFromIntOrPercent; a malformed value counts as 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        hundredths = int(text[:-1]) * total
        return -(-hundredths // 100) if round_up else hundredths // 100
    return int(text) if text.isdigit() else 0


def _created(item: Item) -> Tuple[str, str]:
    return (str(meta(item.obj).get("creationTimestamp") or ""), item.key)


# -- the decision --------------------------------------------------------------------------


def node_infos(view: View) -> Dict[str, NodeInfo]:
    out: Dict[str, NodeInfo] = {}
    for item in view.list(nodes.NODE_PREFIX):
        name = item.key[len(nodes.NODE_PREFIX):]
        node = dict(item.obj)
        node["metadata"] = dict(node.get("metadata") or {})
        node["metadata"].setdefault("name", name)
        out[name] = NodeInfo(node)
    return out


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    ds = item.obj
    dmeta = meta(ds)
    if dmeta.get("deletionTimestamp"):
        return []
    namespace = str(dmeta.get("namespace") or "default")
    candidates = view.list("%s%s/" % (PODS, namespace))
    owned, actions = podcontrol.claim(ds, podcontrol.selects(ds), candidates)
    infos = node_infos(view)
    try:
        judged: Optional[PodView] = pod_view(eligibility_pod(ds))
    except InvalidPod:
        judged = None
    hash_value = template_hash(ds)
    history = revisions.owned(ds, view, namespace)
    current_revision = "%s-%s" % (dmeta.get("name", ""), hash_value)
    actions += revisions.ensure_current(ds, "DaemonSet", history, namespace, current_revision, {HASH_LABEL: hash_value})[0]
    spec = ds.get("spec") or {}
    min_ready = int(spec.get("minReadySeconds") or 0) if isinstance(spec.get("minReadySeconds"), int) else 0

    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    rolling_update = strategy.get("rollingUpdate") or {} if rolling else {}
    surging = rolling and scaled(rolling_update.get("maxSurge", 0), 1, True) > 0  # upstream's AllowsSurge

    by_node: Dict[str, List[Item]] = {}
    for pod in owned:
        by_node.setdefault(target_node(pod.obj), []).append(pod)

    deleted: Dict[str, bool] = {}

    def remove(pod: Item, force: bool = False) -> None:
        if pod.key in deleted:
            return
        deleted[pod.key] = True
        actions.extend([Delete(pod.key, pod.mod_revision)] if force else delete_pod(pod, now))

    desired: List[str] = []  # nodes that should run it, with pods per node after this sync
    kept: Dict[str, List[Item]] = {}
    misscheduled = 0
    for node_name in sorted(set(infos) | set(by_node)):
        pods = sorted(by_node.get(node_name, []), key=_created)
        info = infos.get(node_name)
        if info is None:  # no such Node: no agent will ever finish a graceful deletion
            for pod in pods:
                remove(pod, force=True)
            continue
        where = placement(judged, info) if judged is not None else Placement(False, False)
        if where.should_run:
            desired.append(node_name)
        elif pods:
            misscheduled += 1
        if not where.should_run:
            if not where.should_continue:
                for pod in pods:
                    remove(pod)
            kept[node_name] = [p for p in pods if p.key not in deleted]
            continue
        running: List[Item] = []
        for pod in pods:
            if meta(pod.obj).get("deletionTimestamp"):
                continue
            if (pod.obj.get("status") or {}).get("phase") == "Failed":
                remove(pod)
                continue
            running.append(pod)
        for extra in surplus(running, hash_value, surging, min_ready, now):
            remove(extra)
        if not pods:
            actions.append(podcontrol.create_pod(new_pod(ds, node_name, hash_value)))
        kept[node_name] = [p for p in pods if p.key not in deleted]

    surge_wait: Optional[float] = None
    if rolling:
        max_surge = scaled(rolling_update.get("maxSurge", 0), len(desired), True) if surging else 0
        max_unavailable = scaled(rolling_update.get("maxUnavailable", 1), len(desired), True)
        if max_surge <= 0 and max_unavailable <= 0:
            max_unavailable = 1  # upstream's fallback for an impossible 0/0
        if max_surge <= 0:
            for pod in rolling_deletions(desired, kept, hash_value, max_unavailable, min_ready, now):
                remove(pod)
        else:
            old_pods, new_nodes, surge_wait = surge_plan(desired, kept, hash_value, max_surge, min_ready, now)
            for pod in old_pods:
                remove(pod)
            actions.extend(podcontrol.create_pod(new_pod(ds, n, hash_value)) for n in new_nodes)

    live = sorted({"%s-%s" % (dmeta.get("name", ""), (meta(p.obj).get("labels") or {}).get(HASH_LABEL)) for p in owned})
    actions += revisions.trim_history(ds, history, [current_revision], live)

    status, wait = ds_status(ds, desired, by_node, misscheduled, hash_value, min_ready, now)
    out: List[Action] = []
    if status != (ds.get("status") or {}):
        out.append(Put(key, dict(ds, status=status), item.mod_revision))
    out += actions
    out += podcontrol.name_created(ds, item.mod_revision, actions, set(str(meta(p.obj).get("name") or "") for p in candidates), COMPONENT)
    if surge_wait is not None:
        wait = surge_wait if wait is None else min(wait, surge_wait)
    if wait is not None:
        out.append(Requeue(wait))
    return out


def surplus(running: List[Item], hash_value: str, surging: bool, min_ready: int, now: datetime.datetime) -> List[Item]:
    """The running pods of one node to delete, oldest first in ``running``. Without surge
    the oldest stays. With surge (upstream's podsShouldBeOnNode) the oldest new and the
    oldest old pod may both stay, and only while the old one is ready and the new one not
    yet available; the rest go."""
    if not surging:
        return running[1:]
    new = [p for p in running if (meta(p.obj).get("labels") or {}).get(HASH_LABEL) == hash_value]
    old = [p for p in running if p not in new]
    out = new[1:] + old[1:]
    if new and old and (not pod_is_ready(old[0].obj) or available_in(new[0].obj, min_ready, now) == 0.0):
        out.append(old[0])
    return out


def surge_plan(desired: List[str], kept: Dict[str, List[Item]], hash_value: str, max_surge: int, min_ready: int, now: datetime.datetime) -> Tuple[List[Item], List[str], Optional[float]]:
    """Upstream's rollingUpdate with maxSurge > 0: (old pods to delete, nodes to start a
    new pod on, seconds until a new pod becomes available). A node whose old pod is not
    available gets its new pod at once; at most ``max_surge`` nodes at a time run a new pod
    that is not yet available beside an old available one; the old pod goes when the new
    one is available. maxUnavailable is not used: nothing is taken down before its
    replacement runs."""
    to_delete: List[Item] = []
    allowed: List[str] = []
    candidates: List[str] = []
    surge = 0
    wait: Optional[float] = None
    for node_name in desired:
        live = [p for p in kept.get(node_name, []) if not meta(p.obj).get("deletionTimestamp")]
        new = [p for p in live if (meta(p.obj).get("labels") or {}).get(HASH_LABEL) == hash_value]
        old = [p for p in live if p not in new]
        if len(new) > 1 or len(old) > 1:
            surge += 1  # the per-node rules sort this node out first
            continue
        if not old:
            continue
        if not new:
            if available_in(old[0].obj, min_ready, now) != 0.0:
                allowed.append(node_name)  # not available anyway: replace it now
            else:
                candidates.append(node_name)
            continue
        left = available_in(new[0].obj, min_ready, now)
        if left == 0.0:
            to_delete.append(old[0])
            continue
        surge += 1
        if left is not None:
            wait = left if wait is None else min(wait, left)
    room = min(max(0, max_surge - surge), len(candidates))
    return to_delete, allowed + candidates[:room], wait


def rolling_deletions(desired: List[str], kept: Dict[str, List[Item]], hash_value: str, max_unavailable: int, min_ready: int, now: datetime.datetime) -> List[Item]:
    """Old pods to delete now (upstream's rollingUpdate with maxSurge 0)."""
    unavailable = 0
    to_delete: List[Item] = []
    candidates: List[Item] = []
    for node_name in desired:
        live = [p for p in kept.get(node_name, []) if not meta(p.obj).get("deletionTimestamp")]
        new = [p for p in live if (meta(p.obj).get("labels") or {}).get(HASH_LABEL) == hash_value]
        old = [p for p in live if p not in new]
        if len(new) > 1 or len(old) > 1 or (not new and not old) or (new and old):
            unavailable += 1  # being created, replaced or sorted out by the per-node rules
            continue
        if new:
            if available_in(new[0].obj, min_ready, now) != 0.0:
                unavailable += 1
            continue
        if available_in(old[0].obj, min_ready, now) != 0.0:
            to_delete.append(old[0])  # not available anyway: replace it
        elif unavailable < max_unavailable:
            candidates.append(old[0])
    room = max(0, max_unavailable - unavailable)
    return to_delete + candidates[:room]


def ds_status(ds: Obj, desired: List[str], by_node: Dict[str, List[Item]], misscheduled: int, hash_value: str, min_ready: int, now: datetime.datetime) -> Tuple[Obj, Optional[float]]:
    """The DaemonSet's status from the pods as they were read, and when to look again."""
    current = ready = available = updated = 0
    wait: Optional[float] = None
    for node_name in desired:
        pods = sorted(by_node.get(node_name, []), key=_created)
        if not pods:
            continue
        current += 1
        pod = pods[0].obj
        if pod_is_ready(pod):
            ready += 1
            left = available_in(pod, min_ready, now)
            if left == 0.0:
                available += 1
            elif left is not None:
                wait = left if wait is None else min(wait, left)
        if (meta(pod).get("labels") or {}).get(HASH_LABEL) == hash_value:
            updated += 1
    status = dict(ds.get("status") or {})
    status.update(
        {
            "currentNumberScheduled": current,
            "numberMisscheduled": misscheduled,
            "desiredNumberScheduled": len(desired),
            "numberReady": ready,
            "updatedNumberScheduled": updated,
            "numberAvailable": available,
        }
    )
    if len(desired) - available > 0:
        status["numberUnavailable"] = len(desired) - available
    else:
        status.pop("numberUnavailable", None)
    generation = meta(ds).get("generation")
    if generation is not None:
        status["observedGeneration"] = generation
    return status, wait


def related(change: Change, view: View) -> List[str]:
    """A DaemonSet's own changes; its pods' and revisions' (by controller reference; an
    orphan pod: every DaemonSet of its namespace); any Node change: every DaemonSet."""
    if change.key.startswith(DAEMONSETS):
        return [change.key]
    if change.key.startswith(revisions.REVISIONS):
        owners = []
        for it in (change.old, change.new):
            if it is None:
                continue
            ref = controller_ref(it.obj)
            if ref is not None and ref.get("kind") == "DaemonSet":
                owners.append(ds_key(str(meta(it.obj).get("namespace") or "default"), str(ref.get("name") or "")))
        return sorted(set(owners))
    if change.key.startswith(nodes.NODE_PREFIX):
        return view.keys(DAEMONSETS) if hasattr(view, "keys") else [i.key for i in view.list(DAEMONSETS)]
    keys: List[str] = []
    for it in (change.old, change.new):
        if it is None:
            continue
        pod = it.obj
        ns = str(meta(pod).get("namespace") or "default")
        ref = controller_ref(pod)
        found: List[str]
        if ref is not None:
            found = [ds_key(ns, str(ref.get("name") or ""))] if ref.get("kind") == "DaemonSet" else []
        else:
            found = [i.key for i in view.list("%s%s/" % (DAEMONSETS, ns))]
        keys += [k for k in found if k not in keys]
    return keys


CONTROLLER = Controller(
    name="daemonset",
    primary=DAEMONSETS,
    watches=(DAEMONSETS, PODS, nodes.NODE_PREFIX, revisions.REVISIONS),
    sync=sync,
    related=related,
    workers=1,
)
