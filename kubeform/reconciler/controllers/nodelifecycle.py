"""Node lifecycle: a node whose heartbeat lapsed is tainted, and its pods are evicted.

Readiness comes from the node's heartbeat lease (kubeform.api.nodes: a missing or stale
lease is Ready=Unknown, "Kubelet stopped posting node status."; an agent may itself report
Ready=False). This controller writes what follows from it into the Node, as Kubernetes'
node lifecycle controller does:

- Ready=Unknown: taint ``node.kubernetes.io/unreachable:NoExecute``; Ready=False:
  ``node.kubernetes.io/not-ready:NoExecute``; Ready=True: neither. Each taint carries
  ``timeAdded`` (when it was put on), and a Normal ``NodeNotReady`` event marks the change.
- Taint-based eviction (upstream's taint manager): a pod bound to the node that does not
  tolerate one of its NoExecute taints is deleted at once; one that tolerates all of them
  is deleted when the shortest ``tolerationSeconds`` of the tolerations matching a taint
  has passed since that taint's ``timeAdded`` (never, without tolerationSeconds). Counting
  from ``timeAdded``, stored in the Node, keeps the decision level-triggered: a restarted
  or new leader evicts at the same moment.
- Default tolerations (upstream's DefaultTolerationSeconds admission): a pod that does not
  tolerate not-ready or unreachable NoExecute itself is treated as tolerating it for the
  reconciler config's ``pod_eviction_seconds``. Applied here, at eviction time, not at
  admission: pods that controllers create never pass through `kubeform apply`, the value
  is the reconciler's setting (changing it applies to every pod at once), and what users
  stored stays what they wrote.

Evicting is a graceful deletion (kubeform.api.deletion) with the pod condition
DisruptionTarget=True, reason DeletionByTaintManager, and a ``TaintManagerEviction``
event. On an unreachable node nothing confirms the pod stopped, so it stays Terminating
(workload controllers count it as gone and replace it) until its node returns and its
agent finishes it, the node is deleted (pod GC), or it is force-deleted.

Decisions depend on time: besides changes (a lease appearing or going, a Node or a bound
pod changing), a node whose pods will be due for eviction asks to be synced again at that
moment (Requeue), and every node is looked at again every RESYNC seconds.
"""

import copy
import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import deletion, events, nodes
from kubeform.api.nodes import parse_time
from kubeform.api.objects import meta, namespaced_name, set_condition

from ..machinery.actions import Action, CreateEvent, Put, Requeue
from ..machinery.cache import Change, Item
from ..scheduler.filters import tolerates
from .base import Controller, View

Obj = Dict[str, Any]

NAME = "nodelifecycle"
PODS = "/registry/pods/"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
NO_EXECUTE = "NoExecute"
#: Default tolerationSeconds for not-ready/unreachable (reconciler config pod_eviction_seconds).
DEFAULT_EVICTION_SECONDS = 2.0
#: Evictions written per sync at most (each is a Put and an event); the rest follow.
BATCH = 40
#: Every node is looked at this often (a stale renewTime; evictions come by Requeue).
RESYNC = 2.0
COMPONENT = "node-controller"
EVICTION_COMPONENT = "taint-eviction-controller"


def wanted_taint(ready: str) -> Optional[str]:
    if ready == "Unknown":
        return UNREACHABLE
    if ready == "False":
        return NOT_READY
    return None


def node_taints(node: Obj) -> List[Obj]:
    return [t for t in (node.get("spec") or {}).get("taints") or [] if isinstance(t, dict)]


def new_taints(current: List[Obj], want: Optional[str], stamp: str) -> List[Obj]:
    """The node's taints with this controller's set to ``want`` (others untouched)."""
    out = []
    have = False
    for t in current:
        key = t.get("key")
        if key in (UNREACHABLE, NOT_READY) and t.get("effect") == NO_EXECUTE:
            if key != want:
                continue
            have = True
        out.append(t)
    if want is not None and not have:
        out.append({"key": want, "effect": NO_EXECUTE, "timeAdded": stamp})
    return out


def _tolerations(pod: Obj, default_seconds: float) -> List[Tuple[Tuple[str, str, str, str], Optional[float]]]:
    """The pod's tolerations as (match tuple, seconds or None), plus the defaults it lacks."""
    out: List[Tuple[Tuple[str, str, str, str], Optional[float]]] = []
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        if not isinstance(t, dict):
            continue
        match = (str(t.get("key") or ""), str(t.get("operator") or "Equal"), str(t.get("value") or ""), str(t.get("effect") or ""))
        seconds = t.get("tolerationSeconds")
        limit: Optional[float] = None
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
            limit = max(0.0, float(seconds))
        out.append((match, limit))
    for key in (NOT_READY, UNREACHABLE):
        # upstream's rule: any toleration whose key is this one or empty, and whose effect is
        # NoExecute or empty, means the pod chose its own
        own = any(m[0] in (key, "") and m[3] in (NO_EXECUTE, "") for m, _ in out)
        if not own:
            out.append(((key, "Exists", "", NO_EXECUTE), float(default_seconds)))
    return out


def eviction_due(pod: Obj, taints: List[Obj], default_seconds: float) -> Optional[datetime.datetime]:
    """When the pod must go because of the NoExecute ``taints``: a time (maybe in the
    past: now), or None (it tolerates them for ever). A taint without ``timeAdded`` counts
    from the epoch, i.e. the pod is overdue as soon as it is looked at."""
    tols = _tolerations(pod, default_seconds)
    due: Optional[datetime.datetime] = None
    for taint in taints:
        t = (str(taint.get("key") or ""), str(taint.get("value") or ""), NO_EXECUTE)
        matching = [s for m, s in tols if tolerates(m, t)]
        added = parse_time(str(taint.get("timeAdded") or "")) or datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        if not matching:
            when = added  # not tolerated: due since the taint is there
        else:
            limited = [s for s in matching if s is not None]
            if not limited:
                continue  # tolerated for ever
            when = added + datetime.timedelta(seconds=min(limited))
        if due is None or when < due:
            due = when
    return due


def evict(item: Item, now: datetime.datetime) -> List[Action]:
    """Mark the pod for graceful deletion, as the taint manager does, with its event."""
    stamp = events.rfc3339(now)
    pod = copy.deepcopy(item.obj)
    status = pod.setdefault("status", {})
    status["conditions"] = set_condition(
        status.get("conditions") or [],
        {"type": "DisruptionTarget", "status": "True", "reason": "DeletionByTaintManager",
         "message": "Taint manager: deleting due to NoExecute taint"},
        stamp,
    )
    decision = deletion.delete_pod(pod, now)
    marked = decision.obj if decision.obj is not None else pod
    return [
        Put(item.key, marked, item.mod_revision),
        CreateEvent(item.obj, "TaintManagerEviction", "Marking for deletion Pod %s" % namespaced_name(item.obj),
                    events.NORMAL, EVICTION_COMPONENT),
    ]


def pods_on(view: View, node: str) -> List[Item]:
    """Pods bound to ``node`` that a node may still run and nobody is deleting yet."""
    return [
        i for i in view.list(PODS)
        if (i.obj.get("spec") or {}).get("nodeName") == node and deletion.pod_runs(i.obj) and not deletion.is_deleting(i.obj)
    ]


def decide(key: str, view: View, now: datetime.datetime, eviction_seconds: float) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    name = key[len(nodes.NODE_PREFIX):]
    node = dict(item.obj)
    node["metadata"] = dict(meta(node), name=meta(node).get("name") or name)
    lease = view.get(nodes.LEASE_PREFIX + name)
    ready = nodes.ready_status(nodes.node_view(node, lease.obj if lease is not None else None, now))
    want = wanted_taint(ready)
    current = node_taints(item.obj)
    taints = new_taints(current, want, events.rfc3339(now))
    actions: List[Action] = []
    if taints != current:
        new = copy.deepcopy(item.obj)
        spec = new.setdefault("spec", {})
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)
        actions.append(Put(key, new, item.mod_revision))
        if want is not None:
            actions.append(CreateEvent(node, "NodeNotReady", "Node %s status is now: NodeNotReady" % name,
                                       events.NORMAL, COMPONENT))
        else:
            actions.append(CreateEvent(node, "NodeReady", "Node %s status is now: NodeReady" % name,
                                       events.NORMAL, COMPONENT))
    no_execute = [t for t in taints if t.get("effect") == NO_EXECUTE]
    if not no_execute:
        return actions
    evicted = 0
    later: Optional[datetime.datetime] = None
    for pod in pods_on(view, name):
        due = eviction_due(pod.obj, no_execute, eviction_seconds)
        if due is None:
            continue
        if due > now:
            later = due if later is None or due < later else later
            continue
        if evicted >= BATCH:
            break
        actions += evict(pod, now)
        evicted += 1
    if later is not None:
        actions.append(Requeue((later - now).total_seconds()))  # punctual, not at the next resync
    return actions


def related(change: Change, view: View) -> List[str]:
    """A Node's own changes; a heartbeat lease appearing or going; a pod on a tainted node."""
    if change.key.startswith(nodes.NODE_PREFIX):
        return [change.key] if change.new is not None else []
    if change.key.startswith(nodes.LEASE_PREFIX):
        if change.old is not None and change.new is not None:
            return []  # a renewal; a stale renewTime is found by the resync
        return [nodes.NODE_PREFIX + change.key[len(nodes.LEASE_PREFIX):]]
    out = []
    for it in (change.old, change.new):
        name = (it.obj.get("spec") or {}).get("nodeName") if it is not None else None
        if not name:
            continue
        node = view.get(nodes.NODE_PREFIX + str(name))
        if node is not None and any(t.get("effect") == NO_EXECUTE for t in node_taints(node.obj)):
            out.append(node.key)
    return sorted(set(out))


def controller(eviction_seconds: float = DEFAULT_EVICTION_SECONDS) -> Controller:
    """The controller with default tolerations of ``eviction_seconds``."""

    def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
        return decide(key, view, now, eviction_seconds)

    return Controller(
        name=NAME,
        primary=nodes.NODE_PREFIX,
        watches=(nodes.NODE_PREFIX, nodes.LEASE_PREFIX, PODS),
        sync=sync,
        related=related,
        workers=1,
        resync=RESYNC,
    )


CONTROLLER = controller()
