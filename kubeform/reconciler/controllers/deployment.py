"""Deployment: roll a pod template out through ReplicaSets, as Kubernetes' deployment
controller does (pkg/controller/deployment: sync.go, rolling.go, recreate.go, progress.go).

A sync, for one Deployment:

1. claim its ReplicaSets (podcontrol.claim on ReplicaSets: adopt matching orphans,
   release those whose labels stopped matching);
2. the new ReplicaSet is the one whose template equals the Deployment's (ignoring the
   ``pod-template-hash`` label); it is named ``<deployment>-<hash>`` (api/objects
   pod_template_hash of the template and ``status.collisionCount``; a name taken by a
   ReplicaSet that is not this template's bumps collisionCount), carries the revision
   annotations (``deployment.kubernetes.io/revision`` = highest old revision + 1, the
   replaced revision appended to ``revision-history``, ``desired-replicas``,
   ``max-replicas``) and the Deployment's annotations;
3. then, by case: being deleted -> status only; paused or a scaling event (a ReplicaSet
   whose desired-replicas is not spec.replicas) -> proportional scaling of the existing
   ReplicaSets (and, paused, history cleanup); Recreate -> old ReplicaSets to 0, wait
   until none of their pods runs, then the new one to spec.replicas; RollingUpdate ->
   scale the new one up within maxSurge, else scale old ones down within maxUnavailable
   (unhealthy old pods first), else clean up history once complete;
4. status (replicas, updatedReplicas, readyReplicas, availableReplicas,
   unavailableReplicas, observedGeneration, collisionCount; Available, Progressing with
   NewReplicaSetCreated / FoundNewReplicaSet / ReplicaSetUpdated /
   NewReplicaSetAvailable / ProgressDeadlineExceeded / DeploymentPaused /
   DeploymentResumed, ReplicaFailure from the ReplicaSets), written with everything else
   in one transaction.

Counting is a little more careful than upstream, so the bounds hold on real pods and not
only on ReplicaSet specs: room to surge counts a ReplicaSet as max(spec.replicas,
status.replicas) (a ReplicaSet just scaled down still has its pods until its controller
deletes them) and availability as min(spec.replicas, status.availableReplicas).

``wake`` queues the Deployment again when its progress deadline would pass.
"""

import copy
import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import events
from kubeform.api.kinds import BY_KIND
from kubeform.api.nodes import parse_time
from kubeform.api.objects import controller_ref, meta, new_controller_ref, pod_template_hash
from kubeform.api.rollout import (
    DESIRED_REPLICAS,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    REVISION_HISTORY,
    BadValue,
    equal_ignore_hash,
    is_rolling,
    max_surge,
    max_unavailable,
    replicas,
    revision,
)
from kubeform.api.selectors import Selector, from_label_selector, matches
from kubeform.errors import UserError

from .. import podcontrol
from ..machinery.actions import Action, Create, CreateEvent, Delete, Put
from ..machinery.cache import Change, Item
from .base import Controller, View

Obj = Dict[str, Any]

PREFIX = BY_KIND["Deployment"].prefix()
RS_PREFIX = BY_KIND["ReplicaSet"].prefix()
PODS = podcontrol.PODS
COMPONENT = "deployment-controller"

# Progressing reasons (Kubernetes' deployment/util)
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
RS_UPDATED = "ReplicaSetUpdated"
NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
TIMED_OUT = "ProgressDeadlineExceeded"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"


def selector_of(deploy: Obj) -> Optional[Selector]:
    try:
        sel = from_label_selector((deploy.get("spec") or {}).get("selector"))
    except (UserError, AttributeError, TypeError):
        return None
    return sel or None  # an empty selector would select every ReplicaSet: refused


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _status(obj: Obj) -> Obj:
    value = obj.get("status")
    return value if isinstance(value, dict) else {}


def spec_replicas(rs: Obj) -> int:
    return replicas(rs, 0)


def available(rs: Obj) -> int:
    """Available pods a ReplicaSet can be relied on for (never more than its spec)."""
    return min(spec_replicas(rs), _int(_status(rs).get("availableReplicas")))


def counted(rs: Obj) -> int:
    """Pods a ReplicaSet has or will have (its spec, or more while it scales down)."""
    return max(spec_replicas(rs), _int(_status(rs).get("replicas")))


def _created_key(rs: Obj) -> Tuple[str, str]:
    return (str(meta(rs).get("creationTimestamp") or "~"), str(meta(rs).get("name", "")))


def has_deadline(deploy: Obj) -> bool:
    value = (deploy.get("spec") or {}).get("progressDeadlineSeconds")
    return isinstance(value, int) and not isinstance(value, bool) and value < 2 ** 31 - 1


def get_condition(status: Obj, kind: str) -> Optional[Obj]:
    for cond in status.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return dict(cond)
    return None


def new_condition(kind: str, status: str, reason: str, message: str, stamp: str) -> Obj:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(status: Obj, cond: Obj) -> None:
    """Kubernetes' SetDeploymentCondition: same status and reason changes nothing; same
    status keeps lastTransitionTime."""
    current = get_condition(status, cond["type"])
    if current is not None and current.get("status") == cond["status"] and current.get("reason") == cond["reason"]:
        return
    cond = dict(cond)
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current.get("lastTransitionTime", cond["lastTransitionTime"])
    remove_condition(status, cond["type"])
    status.setdefault("conditions", []).append(cond)


def remove_condition(status: Obj, kind: str) -> None:
    conds = [c for c in status.get("conditions") or [] if c.get("type") != kind]
    if conds:
        status["conditions"] = conds
    else:
        status.pop("conditions", None)


def deployment_complete(deploy: Obj, status: Obj) -> bool:
    want = replicas(deploy)
    return (
        _int(status.get("updatedReplicas")) == want
        and _int(status.get("replicas")) == want
        and _int(status.get("availableReplicas")) == want
        and _int(status.get("observedGeneration")) >= _int(meta(deploy).get("generation"), 1)
    )


def deployment_progressing(deploy: Obj, new: Obj) -> bool:
    old = _status(deploy)
    old_old = _int(old.get("replicas")) - _int(old.get("updatedReplicas"))
    new_old = _int(new.get("replicas")) - _int(new.get("updatedReplicas"))
    return (
        _int(new.get("updatedReplicas")) > _int(old.get("updatedReplicas"))
        or new_old < old_old
        or _int(new.get("readyReplicas")) > _int(old.get("readyReplicas"))
        or _int(new.get("availableReplicas")) > _int(old.get("availableReplicas"))
    )


def deployment_timed_out(deploy: Obj, status: Obj, now: datetime.datetime) -> bool:
    if not has_deadline(deploy):
        return False
    cond = get_condition(status, "Progressing")
    if cond is None or cond.get("reason") == NEW_RS_AVAILABLE:
        return False
    if cond.get("reason") == TIMED_OUT:
        return True
    since = parse_time(str(cond.get("lastUpdateTime") or ""))
    if since is None:
        return False
    deadline = _int((deploy.get("spec") or {}).get("progressDeadlineSeconds"))
    return since + datetime.timedelta(seconds=deadline) < now


class Rollout(object):
    """One sync's working state: the ReplicaSets as this sync leaves them, and what to write."""

    def __init__(self, item: Item, owned: List[Item], view: View, now: datetime.datetime) -> None:
        self.item = item
        self.deploy = item.obj
        self.view = view
        self.now = now
        self.stamp = events.rfc3339(now)
        self.ns = str(meta(self.deploy).get("namespace") or "default")
        self.rs: Dict[str, Obj] = {i.key: i.obj for i in owned}
        self.items: Dict[str, Item] = {i.key: i for i in owned}
        self.changed: List[str] = []
        self.created: Optional[str] = None
        self.deleted: List[str] = []
        self.events: List[CreateEvent] = []
        self.status: Obj = copy.deepcopy(_status(self.deploy))
        self.annotations: Obj = dict(meta(self.deploy).get("annotations") or {})
        self.stop = False  # a collision: only the status is written, the sync comes again

    # -- reading ------------------------------------------------------------------------

    @property
    def want(self) -> int:
        return replicas(self.deploy)

    def template(self) -> Obj:
        return (self.deploy.get("spec") or {}).get("template") or {}

    def find_new(self) -> Optional[str]:
        """The oldest owned ReplicaSet whose template is the Deployment's."""
        keys = sorted(self.rs, key=lambda k: _created_key(self.rs[k]))
        for key in keys:
            if equal_ignore_hash((self.rs[key].get("spec") or {}).get("template"), self.template()):
                return key
        return None

    def olds(self, new: Optional[str]) -> List[str]:
        return sorted((k for k in self.rs if k != new), key=lambda k: _created_key(self.rs[k]))

    def active(self, keys: List[str]) -> List[str]:
        return [k for k in keys if spec_replicas(self.rs[k]) > 0]

    # -- writing ------------------------------------------------------------------------

    def _touch(self, key: str) -> Obj:
        """A copy of the ReplicaSet at ``key`` this sync may change."""
        if key != self.created and key not in self.changed:
            self.rs[key] = copy.deepcopy(self.rs[key])
            self.changed.append(key)
        return self.rs[key]

    def event(self, reason: str, message: str, event_type: str = events.NORMAL) -> None:
        self.events.append(CreateEvent(self.deploy, reason, message, event_type, COMPONENT))

    def replicas_annotations(self, rs: Obj) -> bool:
        """desired-replicas and max-replicas as the Deployment says now; True if changed."""
        ann = rs.setdefault("metadata", {}).setdefault("annotations", {})
        want = {DESIRED_REPLICAS: str(self.want), MAX_REPLICAS: str(self.want + max_surge(self.deploy))}
        if all(ann.get(k) == v for k, v in want.items()):
            return False
        ann.update(want)
        return True

    def scale(self, key: str, count: int) -> bool:
        """Scale a ReplicaSet (its replicas annotations follow); True when its size changed."""
        rs = self.rs[key]
        old = spec_replicas(rs)
        ann = (meta(rs).get("annotations") or {})
        same_ann = ann.get(DESIRED_REPLICAS) == str(self.want) and ann.get(MAX_REPLICAS) == str(self.want + max_surge(self.deploy))
        if old == count and same_ann:
            return False
        rs = self._touch(key)
        self.replicas_annotations(rs)
        if old == count:
            return False
        rs.setdefault("spec", {})["replicas"] = count
        if key != self.created:
            rs["metadata"]["generation"] = _int(rs["metadata"].get("generation"), 1) + 1
        self.event(
            "ScalingReplicaSet",
            "Scaled %s replica set %s from %d to %d" % ("up" if count > old else "down", meta(rs).get("name"), old, count),
        )
        return True

    # -- the new ReplicaSet ---------------------------------------------------------------

    def copy_annotations(self, rs: Obj) -> bool:
        ann = rs.setdefault("metadata", {}).setdefault("annotations", {})
        changed = False
        for k, v in self.annotations.items():
            if k in NOT_COPIED or ann.get(k) == v:
                continue
            ann[k] = v
            changed = True
        return changed

    def revision_annotations(self, rs: Obj, new_revision: int) -> bool:
        """Kubernetes' SetNewReplicaSetAnnotations (revision and its history)."""
        changed = self.copy_annotations(rs)
        ann = rs["metadata"]["annotations"]
        old_text = ann.get(REVISION, "")
        old = revision(rs)
        if old < new_revision:
            ann[REVISION] = str(new_revision)
            changed = True
            if old_text:
                history = ann.get(REVISION_HISTORY, "")
                ann[REVISION_HISTORY] = old_text if not history else history + "," + old_text
        return changed

    def set_revision(self, value: str) -> None:
        if self.annotations.get(REVISION) != value:
            self.annotations[REVISION] = value

    def progressing(self, status: str, reason: str, message: str) -> None:
        if has_deadline(self.deploy):
            set_condition(self.status, new_condition("Progressing", status, reason, message, self.stamp))

    def new_rs_new_replicas(self, new: Optional[str]) -> int:
        """Kubernetes' NewRSNewReplicas."""
        if not is_rolling(self.deploy):
            return self.want
        have = spec_replicas(self.rs[new]) if new else 0
        current = sum(counted(self.rs[k]) for k in self.rs)
        most = self.want + max_surge(self.deploy)
        if current >= most:
            return have
        return have + max(0, min(most - current, self.want - have))

    def get_new(self, create: bool) -> Optional[str]:
        """The new ReplicaSet's key (revision annotations brought up to date), created when
        ``create`` and missing; None when there is none (or a name collision)."""
        new = self.find_new()
        old_revisions = [revision(self.rs[k]) for k in self.olds(new)]
        new_revision = max(old_revisions or [0]) + 1
        if new is not None:
            probe = copy.deepcopy(self.rs[new])
            if self.revision_annotations(probe, new_revision) or _int((probe.get("spec") or {}).get("minReadySeconds")) != self.min_ready():
                found = self._touch(new)
                self.revision_annotations(found, new_revision)
                found.setdefault("spec", {})["minReadySeconds"] = self.min_ready()
            self.set_revision(str(revision(self.rs[new])))
            if get_condition(self.status, "Progressing") is None:
                self.progressing("True", FOUND_NEW_RS, 'Found new replica set "%s"' % meta(self.rs[new]).get("name"))
            return new
        if not create:
            return None
        collisions = _status(self.deploy).get("collisionCount")
        template_hash = pod_template_hash(self.template(), collisions if isinstance(collisions, int) else None)
        name = "%s-%s" % (meta(self.deploy).get("name"), template_hash)
        key = "%s%s/%s" % (RS_PREFIX, self.ns, name)
        taken = self.view.get(key)
        if taken is not None:
            # not ours with this template (find_new would have found it): another name
            self.status["collisionCount"] = _int(collisions) + 1
            self.stop = True
            return None
        template = copy.deepcopy(self.template())
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = template_hash
        selector = copy.deepcopy((self.deploy.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = template_hash
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.ns,
                "generation": 1,
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {},
                "ownerReferences": [new_controller_ref(self.deploy)],
            },
            "spec": {"replicas": 0, "minReadySeconds": self.min_ready(), "selector": selector, "template": template},
        }
        self.revision_annotations(rs, new_revision)
        self.rs[key] = rs
        self.created = key
        count = self.new_rs_new_replicas(None)
        rs["spec"]["replicas"] = count
        self.replicas_annotations(rs)
        if count > 0:
            self.event("ScalingReplicaSet", "Scaled up replica set %s from 0 to %d" % (name, count))
        self.set_revision(str(new_revision))
        self.progressing("True", NEW_RS_CREATED, 'Created new replica set "%s"' % name)
        return key

    def min_ready(self) -> int:
        return _int((self.deploy.get("spec") or {}).get("minReadySeconds"))

    # -- strategies ---------------------------------------------------------------------

    def rolling(self) -> None:
        new = self.get_new(create=True)
        if self.stop or new is None:
            return
        if self.reconcile_new(new) or self.reconcile_old(new):
            self.rollout_status(new)
            return
        if deployment_complete(self.deploy, _status(self.deploy)):
            self.cleanup(new)
        self.rollout_status(new)

    def reconcile_new(self, new: str) -> bool:
        have = spec_replicas(self.rs[new])
        if have == self.want:
            return False
        if have > self.want:
            return self.scale(new, self.want)
        return self.scale(new, self.new_rs_new_replicas(new))

    def reconcile_old(self, new: str) -> bool:
        olds = self.active(self.olds(new))
        if sum(spec_replicas(self.rs[k]) for k in olds) == 0:
            return False
        everyone = [*olds, new]
        min_available = self.want - max_unavailable(self.deploy)
        new_unavailable = spec_replicas(self.rs[new]) - available(self.rs[new])
        room = sum(spec_replicas(self.rs[k]) for k in everyone) - min_available - new_unavailable
        if room <= 0:
            return False
        cleaned = self.cleanup_unhealthy(olds, room)
        scaled = self.scale_down_olds(everyone, olds)
        return cleaned + scaled > 0

    def cleanup_unhealthy(self, olds: List[str], most: int) -> int:
        """Old ReplicaSets lose their unavailable pods first (they hold no availability)."""
        total = 0
        for key in olds:
            if total >= most:
                break
            rs = self.rs[key]
            have = spec_replicas(rs)
            if have == 0 or have == available(rs):
                continue
            down = min(most - total, have - available(rs))
            self.scale(key, have - down)
            total += down
        return total

    def scale_down_olds(self, everyone: List[str], olds: List[str]) -> int:
        min_available = self.want - max_unavailable(self.deploy)
        can = sum(available(self.rs[k]) for k in everyone) - min_available
        if can <= 0:
            return 0
        total = 0
        for key in olds:
            if total >= can:
                break
            have = spec_replicas(self.rs[key])
            if have == 0:
                continue
            down = min(have, can - total)
            self.scale(key, have - down)
            total += down
        return total

    def recreate(self) -> None:
        new = self.get_new(create=False)
        if self.stop:
            return
        scaled = False
        for key in self.active(self.olds(new)):
            scaled = self.scale(key, 0) or scaled
        if scaled or self.old_pods_running(new):
            self.rollout_status(new)
            return
        if new is None:
            new = self.get_new(create=True)
            if self.stop or new is None:
                return
        self.scale(new, self.want)
        if deployment_complete(self.deploy, _status(self.deploy)):
            self.cleanup(new)
        self.rollout_status(new)

    def old_pods_running(self, new: Optional[str]) -> bool:
        olds = self.olds(new)
        if sum(_int(_status(self.rs[k]).get("replicas")) for k in olds) > 0:
            return True
        uids = set(meta(self.rs[k]).get("uid") for k in olds)
        for pod in self.view.list("%s%s/" % (PODS, self.ns)):
            ref = controller_ref(pod.obj)
            if ref is None or ref.get("uid") not in uids:
                continue
            if (pod.obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return True
        return False

    # -- paused and scaling events --------------------------------------------------------

    def scaling_event(self) -> bool:
        """An active ReplicaSet was sized for another spec.replicas (Kubernetes' isScalingEvent)."""
        for key in self.active(list(self.rs)):
            wanted = (meta(self.rs[key]).get("annotations") or {}).get(DESIRED_REPLICAS)
            if wanted is not None and wanted != str(self.want):
                return True
        return False

    def sync_scale(self) -> None:
        """Kubernetes' sync(): scale existing ReplicaSets (proportionally in a rollout)."""
        new = self.get_new(create=False)
        if self.stop:
            return
        self.proportional(new)
        if (self.deploy.get("spec") or {}).get("paused"):
            self.cleanup(new)
        self.status = self.calculate_status(new)

    def active_or_latest(self, new: Optional[str]) -> Optional[str]:
        olds = sorted(self.olds(new), key=lambda k: _created_key(self.rs[k]), reverse=True)
        if new is None and not olds:
            return None
        everyone = ([new] if new else []) + olds
        act = self.active(everyone)
        if not act:
            return new if new is not None else olds[0]
        return act[0] if len(act) == 1 else None

    def saturated(self, new: Optional[str]) -> bool:
        if new is None:
            return False
        rs = self.rs[new]
        wanted = (meta(rs).get("annotations") or {}).get(DESIRED_REPLICAS)
        return (
            spec_replicas(rs) == self.want
            and wanted == str(self.want)
            and _int(_status(rs).get("availableReplicas")) == self.want
        )

    def proportional(self, new: Optional[str]) -> None:
        only = self.active_or_latest(new)
        if only is not None:
            self.scale(only, self.want)
            return
        if self.saturated(new):
            for key in self.active(self.olds(new)):
                self.scale(key, 0)
            return
        if not is_rolling(self.deploy):
            return
        everyone = self.active(([new] if new else []) + self.olds(new))
        total = sum(spec_replicas(self.rs[k]) for k in everyone)
        allowed = self.want + max_surge(self.deploy) if self.want > 0 else 0
        to_add = allowed - total
        if to_add > 0:  # larger first, newer first on a tie
            everyone.sort(key=lambda k: (-spec_replicas(self.rs[k]), _neg(_created_key(self.rs[k]))))
        else:  # larger first, older first on a tie
            everyone.sort(key=lambda k: (-spec_replicas(self.rs[k]), _created_key(self.rs[k])))
        sizes: Dict[str, int] = {}
        added = 0
        for key in everyone:
            if to_add != 0:
                part = self.proportion(self.rs[key], to_add, added)
                sizes[key] = spec_replicas(self.rs[key]) + part
                added += part
            else:
                sizes[key] = spec_replicas(self.rs[key])
        for i, key in enumerate(everyone):
            size = sizes[key]
            if i == 0 and to_add != 0:
                size = max(0, size + to_add - added)
            self.scale(key, size)

    def proportion(self, rs: Obj, to_add: int, added: int) -> int:
        have = spec_replicas(rs)
        if have == 0 or to_add == 0 or to_add == added:
            return 0
        fraction = self.fraction(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    def fraction(self, rs: Obj) -> int:
        if self.want == 0:
            return -spec_replicas(rs)
        total = self.want + max_surge(self.deploy)
        text = (meta(rs).get("annotations") or {}).get(MAX_REPLICAS)
        try:
            annotated = int(str(text))
        except ValueError:
            annotated = _int(_status(self.deploy).get("replicas"))
        if annotated <= 0:
            return 0
        size = spec_replicas(rs) * total / float(annotated)
        return _round(size) - spec_replicas(rs)

    # -- history ---------------------------------------------------------------------------

    def cleanup(self, new: Optional[str]) -> None:
        """Old ReplicaSets beyond revisionHistoryLimit go, oldest revision first, once empty."""
        limit = (self.deploy.get("spec") or {}).get("revisionHistoryLimit")
        if not isinstance(limit, int) or isinstance(limit, bool):
            return
        cleanable = [k for k in self.olds(new) if not meta(self.rs[k]).get("deletionTimestamp")]
        extra = len(cleanable) - max(limit, 0)
        if extra <= 0:
            return
        cleanable.sort(key=lambda k: (revision(self.rs[k]), _created_key(self.rs[k])))
        for key in cleanable[:extra]:
            rs = self.rs[key]
            st = _status(rs)
            if _int(st.get("replicas")) != 0 or spec_replicas(rs) != 0 or key in self.changed:
                continue
            if _int(meta(rs).get("generation"), 1) > _int(st.get("observedGeneration"), 0):
                continue
            self.deleted.append(key)

    # -- status ---------------------------------------------------------------------------

    def calculate_status(self, new: Optional[str]) -> Obj:
        everyone = list(self.rs)
        avail = sum(_int(_status(self.rs[k]).get("availableReplicas")) for k in everyone)
        total = sum(spec_replicas(self.rs[k]) for k in everyone)
        status: Obj = {"observedGeneration": _int(meta(self.deploy).get("generation"), 1)}
        counts = (
            ("replicas", sum(_int(_status(self.rs[k]).get("replicas")) for k in everyone)),
            ("updatedReplicas", _int(_status(self.rs[new]).get("replicas")) if new else 0),
            ("readyReplicas", sum(_int(_status(self.rs[k]).get("readyReplicas")) for k in everyone)),
            ("availableReplicas", avail),
            ("unavailableReplicas", max(total - avail, 0)),
        )
        for field, value in counts:
            if value:
                status[field] = value
        if "collisionCount" in self.status:
            status["collisionCount"] = self.status["collisionCount"]
        if self.status.get("conditions"):
            status["conditions"] = copy.deepcopy(self.status["conditions"])
        if avail >= self.want - max_unavailable(self.deploy):
            cond = new_condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", self.stamp)
        else:
            cond = new_condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", self.stamp)
        set_condition(status, cond)
        return status

    def rollout_status(self, new: Optional[str]) -> None:
        """Kubernetes' syncRolloutStatus: the status with the Progressing verdict."""
        status = self.calculate_status(new)
        name = meta(self.rs[new]).get("name") if new else None
        if not has_deadline(self.deploy):
            remove_condition(status, "Progressing")
        current = get_condition(status, "Progressing")
        complete = (
            _int(status.get("replicas")) == _int(status.get("updatedReplicas"))
            and current is not None
            and current.get("reason") == NEW_RS_AVAILABLE
        )
        if has_deadline(self.deploy) and not complete:
            if deployment_complete(self.deploy, status):
                message = 'ReplicaSet "%s" has successfully progressed.' % name if name else "Deployment has successfully progressed."
                set_condition(status, new_condition("Progressing", "True", NEW_RS_AVAILABLE, message, self.stamp))
            elif deployment_progressing(self.deploy, status):
                message = 'ReplicaSet "%s" is progressing.' % name if name else "Deployment is progressing."
                cond = new_condition("Progressing", "True", RS_UPDATED, message, self.stamp)
                if current is not None and current.get("status") == "True":
                    cond["lastTransitionTime"] = current.get("lastTransitionTime", self.stamp)
                remove_condition(status, "Progressing")
                set_condition(status, cond)
            elif deployment_timed_out(self.deploy, status, self.now):
                message = 'ReplicaSet "%s" has timed out progressing.' % name if name else "Deployment has timed out progressing."
                set_condition(status, new_condition("Progressing", "False", TIMED_OUT, message, self.stamp))
        failures = [get_condition(_status(self.rs[k]), "ReplicaFailure") for k in self.rs]
        failure = next((f for f in failures if f is not None and f.get("status") == "True"), None)
        if failure is not None:
            set_condition(status, new_condition("ReplicaFailure", "True", str(failure.get("reason", "")), str(failure.get("message", "")), self.stamp))
        else:
            remove_condition(status, "ReplicaFailure")
        self.status = status

    def paused_conditions(self) -> None:
        """Kubernetes' checkPausedConditions (only with a progress deadline)."""
        if not has_deadline(self.deploy):
            return
        cond = get_condition(self.status, "Progressing")
        reason = cond.get("reason") if cond is not None else None
        if (self.deploy.get("spec") or {}).get("paused"):
            if reason != PAUSED:
                set_condition(self.status, new_condition("Progressing", "Unknown", PAUSED, "Deployment is paused", self.stamp))
        elif reason == PAUSED:
            set_condition(self.status, new_condition("Progressing", "Unknown", RESUMED, "Deployment is resumed", self.stamp))

    # -- the transaction ------------------------------------------------------------------

    def actions(self) -> List[Action]:
        out: List[Action] = []
        if self.created is not None:
            out.append(Create(RS_PREFIX, self.rs[self.created]))
        for key in self.changed:
            if key not in self.deleted:
                out.append(Put(key, self.rs[key], self.items[key].mod_revision))
        for key in self.deleted:
            out.append(Delete(key, self.items[key].mod_revision))
        old_meta = meta(self.deploy)
        if self.status != _status(self.deploy) or self.annotations != (old_meta.get("annotations") or {}):
            deploy = dict(self.deploy)
            new_meta = dict(old_meta)
            if self.annotations:
                new_meta["annotations"] = self.annotations
            deploy["metadata"] = new_meta
            deploy["status"] = self.status
            out.append(Put(self.item.key, deploy, self.item.mod_revision))
        out.extend(self.events)
        return out


def _neg(key: Tuple[str, str]) -> Tuple[str, ...]:
    """A key that sorts ``key`` (creation time, name) newest first."""
    return tuple("".join(chr(0x10FFFF - ord(c)) for c in part) for part in key)


def _round(value: float) -> int:
    """Round half away from zero (Go's math.Round)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    deploy = item.obj
    sel = selector_of(deploy)
    if sel is None:
        return []
    ns = meta(deploy).get("namespace") or "default"
    selector = sel
    owned, claims = podcontrol.claim(
        deploy, lambda rs: matches(selector, meta(rs).get("labels")), view.list("%s%s/" % (RS_PREFIX, ns))
    )
    r = Rollout(item, owned, view, now)
    try:
        if meta(deploy).get("deletionTimestamp"):
            r.status = r.calculate_status(r.find_new())
        else:
            r.paused_conditions()
            if (deploy.get("spec") or {}).get("paused") or r.scaling_event():
                r.sync_scale()
            elif is_rolling(deploy):
                r.rolling()
            else:
                r.recreate()
    except BadValue:
        return claims  # invalid maxSurge/maxUnavailable: validation refuses these on apply
    return claims + r.actions()


def wake(key: str, view: View, now: datetime.datetime) -> Optional[float]:
    """Seconds until the progress deadline passes (the Deployment is decided again then)."""
    item = view.get(key)
    if item is None or not has_deadline(item.obj) or (item.obj.get("spec") or {}).get("paused"):
        return None
    cond = get_condition(_status(item.obj), "Progressing")
    if cond is None or cond.get("status") != "True" or cond.get("reason") == NEW_RS_AVAILABLE:
        return None
    since = parse_time(str(cond.get("lastUpdateTime") or ""))
    if since is None:
        return None
    deadline = _int((item.obj.get("spec") or {}).get("progressDeadlineSeconds"))
    return max((since - now).total_seconds() + deadline, 0.0) + 1.0


def related(change: Change, view: View) -> List[str]:
    """A Deployment's own change; a ReplicaSet's controller (or, for an orphan, the
    Deployments whose selector matches it); a pod that went or finished (Recreate waits
    for old pods), through its ReplicaSet."""
    if change.key.startswith(PREFIX):
        return [change.key]
    keys: List[str] = []
    if change.key.startswith(RS_PREFIX):
        for side in (change.old, change.new):
            if side is None:
                continue
            rs = side.obj
            ns = meta(rs).get("namespace") or change.key[len(RS_PREFIX):].split("/", 1)[0]
            ref = controller_ref(rs)
            if ref is not None:
                if ref.get("kind") == "Deployment":
                    _add(keys, "%s%s/%s" % (PREFIX, ns, ref.get("name", "")))
                continue
            for d in view.list("%s%s/" % (PREFIX, ns)):
                sel = selector_of(d.obj)
                if sel is not None and matches(sel, meta(rs).get("labels")):
                    _add(keys, d.key)
        return keys
    if change.key.startswith(PODS):
        gone = change.new is None or (change.new.obj.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        side = change.old if change.new is None else change.new
        if not gone or side is None:
            return []
        ref = controller_ref(side.obj)
        ns = meta(side.obj).get("namespace") or change.key[len(PODS):].split("/", 1)[0]
        if ref is None or ref.get("kind") != "ReplicaSet":
            return []
        rs = view.get("%s%s/%s" % (RS_PREFIX, ns, ref.get("name", "")))
        owner = controller_ref(rs.obj) if rs is not None else None
        if owner is not None and owner.get("kind") == "Deployment":
            return ["%s%s/%s" % (PREFIX, ns, owner.get("name", ""))]
    return keys


def _add(keys: List[str], key: str) -> None:
    if key not in keys:
        keys.append(key)


CONTROLLER = Controller(
    name="deployment",
    primary=PREFIX,
    watches=(PREFIX, RS_PREFIX, PODS),
    sync=sync,
    related=related,
    workers=1,
    wake=wake,
)
