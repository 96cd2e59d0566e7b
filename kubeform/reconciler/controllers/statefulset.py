"""StatefulSet: pods with a stable identity, made and removed in order, with their own claims.

Kubernetes' pkg/controller/statefulset, in small:

- **Identity.** Pod ``i`` is named ``<set>-<i>``, with ``spec.hostname`` = its name and
  ``spec.subdomain`` = ``spec.serviceName`` (the headless Service's DNS name), and labels
  ``statefulset.kubernetes.io/pod-name``, ``apps.kubernetes.io/pod-index`` and
  ``controller-revision-hash`` (the revision of the template it was made from).
- **Storage.** Each ``volumeClaimTemplates`` entry gives pod ``i`` the claim
  ``<template>-<set>-<i>``, created (if absent) in the same transaction as the pod and
  mounted in place of the template's volume of that name. Claims outlive their pods
  (``persistentVolumeClaimRetentionPolicy`` Retain, the default); with ``whenScaled:
  Delete`` the claims of ordinals scaled away are deleted once their pod is gone, with
  ``whenDeleted: Delete`` they carry an ownerReference to the set (the garbage collector
  removes them with it).
- **Order.** ``OrderedReady`` (the default): pods are created 0..N-1, each only when every
  lower one is Running and Ready, and removed from the highest ordinal down, one at a time,
  each only when the others are healthy. ``Parallel``: every missing pod is created and
  every surplus pod deleted at once.
- **Updates.** Templates are recorded as ControllerRevisions ``<set>-<hash>``.
  ``RollingUpdate`` replaces, from the highest ordinal down to ``partition``, one pod at a
  time, the pods not at the update revision, waiting for each to be healthy; a pod
  below the partition that is re-created gets the current revision. ``OnDelete`` replaces
  nothing: a pod the user deletes comes back at the update revision.
- **Never twice.** A name is created only when its key is absent (the writer's Create
  compares it), so a pod is re-created only after the old object is really gone: a pod
  being deleted keeps its name until its agent removed it, and a pod on a node that
  stopped answering stays Terminating until that node is removed or the pod is deleted
  with ``--force`` (docs/reconciler.md). A failed pod is deleted first, re-created after.
- **Status.** replicas, readyReplicas, availableReplicas, currentReplicas,
  updatedReplicas, currentRevision, updateRevision, observedGeneration, collisionCount;
  written only when it changed.

Pure: ``sync(key, view, now)`` reads the cache, returns actions.
"""

import copy
import datetime
import re
from typing import Any, Dict, List, Optional

from kubeform.api import defaults, events, selectors
from kubeform.api.nodes import parse_time
from kubeform.api.objects import (
    condition,
    controller_ref,
    meta,
    pod_is_ready,
    pod_template_hash,
)
from kubeform.errors import UserError

from .. import podcontrol, poddeletion
from ..machinery.actions import Action, Create, CreateEvent, Delete, Put
from ..machinery.cache import Change, Item
from . import revisions
from .base import Controller, View

Obj = Dict[str, Any]

STATEFULSETS = "/registry/statefulsets/"
PODS = "/registry/pods/"
CLAIMS = "/registry/persistentvolumeclaims/"
REVISIONS = revisions.REVISIONS

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
COMPONENT = "statefulset-controller"


# -- small readers ------------------------------------------------------------------------

def ordinal_of(set_name: str, pod_name: str) -> int:
    """The ordinal in ``<set>-<ordinal>``; -1 when the name is not a member's."""
    match = re.match(r"^(.*)-([0-9]+)$", pod_name)
    if match is None or match.group(1) != set_name:
        return -1
    return int(match.group(2))


def is_healthy(pod: Obj) -> bool:
    """Running, Ready and not being deleted (Kubernetes' isHealthy)."""
    return (
        (pod.get("status") or {}).get("phase") == "Running"
        and pod_is_ready(pod)
        and not meta(pod).get("deletionTimestamp")
    )


def _ready_for(pod: Obj, now: datetime.datetime) -> float:
    """Seconds since the pod turned Ready (0 when the time is unknown)."""
    when = parse_time(str((condition(pod, "Ready") or {}).get("lastTransitionTime") or ""))
    return (now - when).total_seconds() if when else 0.0


def _terminal(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _deleting(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def _revision_of(pod: Obj) -> str:
    return str((meta(pod).get("labels") or {}).get(REVISION_LABEL) or "")


def claim_name(template: Obj, set_name: str, ordinal: int) -> str:
    return "%s-%s-%d" % (meta(template).get("name", ""), set_name, ordinal)


# -- revisions ----------------------------------------------------------------------------

def revision_name(sts: Obj) -> str:
    """``<set>-<hash of the template>`` (collisionCount mixed in when set)."""
    spec = sts.get("spec") or {}
    count = (sts.get("status") or {}).get("collisionCount")
    return "%s-%s" % (meta(sts).get("name", ""), pod_template_hash(revisions.revision_data(spec.get("template") or {}), count or None))


# -- new pods and claims --------------------------------------------------------------------

def new_pod(sts: Obj, template: Obj, revision: str, ordinal: int) -> Obj:
    """Pod ``ordinal`` of the set from ``template`` (the revision it belongs to)."""
    set_name = str(meta(sts).get("name", ""))
    name = "%s-%d" % (set_name, ordinal)
    spec = sts.get("spec") or {}
    labels = {POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision}
    pod = podcontrol.pod_from_template(sts, template, name=name, extra_labels=labels)
    pod_spec = pod["spec"]
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    claims = spec.get("volumeClaimTemplates") or []
    if claims:
        names = [meta(t).get("name") for t in claims]
        mounted = [
            {"name": meta(t).get("name"), "persistentVolumeClaim": {"claimName": claim_name(t, set_name, ordinal)}}
            for t in claims
        ]
        pod_spec["volumes"] = mounted + [v for v in pod_spec.get("volumes") or [] if v.get("name") not in names]
    return pod


def new_claim(sts: Obj, template: Obj, ordinal: int) -> Obj:
    """The claim of ``ordinal`` for one volumeClaimTemplate, defaulted as the store would."""
    set_name = str(meta(sts).get("name", ""))
    spec = sts.get("spec") or {}
    tmeta = meta(template)
    labels = dict(tmeta.get("labels") or {})
    labels.update(((spec.get("selector") or {}).get("matchLabels")) or {})
    cmeta: Obj = {"name": claim_name(template, set_name, ordinal), "namespace": meta(sts).get("namespace") or "default"}
    if labels:
        cmeta["labels"] = labels
    if tmeta.get("annotations"):
        cmeta["annotations"] = dict(tmeta["annotations"])
    if ((spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted")) == "Delete":
        cmeta["ownerReferences"] = [revisions.owner_ref(sts, "StatefulSet", False)]
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": cmeta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    return defaults.apply_defaults(claim)


# -- the decision -------------------------------------------------------------------------

class _Plan(object):
    """What one sync decided: actions, and the pods it created or deleted (for events)."""

    def __init__(self) -> None:
        self.actions: List[Action] = []

    def event(self, sts: Obj, reason: str, message: str, warning: bool = False) -> None:
        self.actions.append(
            CreateEvent(sts, reason, message, events.WARNING if warning else events.NORMAL, COMPONENT)
        )


def _selector(sts: Obj) -> Optional[selectors.Selector]:
    try:
        sel = selectors.from_label_selector((sts.get("spec") or {}).get("selector"))
    except UserError:
        return None
    return sel if sel else None


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None or _deleting(item.obj):
        return []
    sts = item.obj
    smeta = meta(sts)
    spec = sts.get("spec") or {}
    namespace = str(smeta.get("namespace") or "default")
    set_name = str(smeta.get("name") or "")
    sel = _selector(sts)
    if sel is None:
        return []  # validation refuses an empty or invalid selector; nothing is selected

    def selects(pod: Obj) -> bool:
        return sel is not None and selectors.matches(sel, meta(pod).get("labels")) and ordinal_of(set_name, str(meta(pod).get("name", ""))) >= 0

    owned, claim_actions = podcontrol.claim(sts, selects, view.list(PODS + namespace + "/"))
    plan = _Plan()
    plan.actions.extend(claim_actions)

    history = revisions.owned(sts, view, namespace)
    update_rev = revision_name(sts)
    rev_actions, _ = revisions.ensure_current(sts, "StatefulSet", history, namespace, update_rev)
    plan.actions.extend(rev_actions)
    status = sts.get("status") or {}
    by_name = {meta(i.obj).get("name"): i.obj for i in history}
    current_rev = str(status.get("currentRevision") or "")
    current_template = revisions.template_of_revision(by_name[current_rev]) if current_rev in by_name else None
    if current_template is None:
        current_rev, current_template = update_rev, spec.get("template") or {}
    update_template = spec.get("template") or {}

    wanted_raw = spec.get("replicas")
    replicas_wanted = wanted_raw if isinstance(wanted_raw, int) and wanted_raw >= 0 else 1
    replicas: Dict[int, Item] = {}
    condemned: List[Item] = []
    for pod_item in owned:
        n = ordinal_of(set_name, str(meta(pod_item.obj).get("name", "")))
        if 0 <= n < replicas_wanted:
            replicas[n] = pod_item
        elif n >= replicas_wanted:
            condemned.append(pod_item)
    condemned.sort(key=lambda i: -ordinal_of(set_name, str(meta(i.obj).get("name", ""))))

    _pods(plan, sts, view, now, replicas, condemned, replicas_wanted, current_rev, current_template, update_rev, update_template)
    plan.actions.extend(_scaled_claims(sts, view, namespace, replicas_wanted, owned))
    live = sorted({_revision_of(i.obj) for i in owned})
    plan.actions.extend(revisions.trim_history(sts, history, [current_rev, update_rev], live))

    new_status = compute_status(sts, owned, current_rev, update_rev, now)
    if new_status != status:
        plan.actions.append(Put(item.key, dict(sts, status=new_status), item.mod_revision))
    return plan.actions


def _pods(
    plan: _Plan,
    sts: Obj,
    view: View,
    now: datetime.datetime,
    replicas: Dict[int, Item],
    condemned: List[Item],
    wanted: int,
    current_rev: str,
    current_template: Obj,
    update_rev: str,
    update_template: Obj,
) -> None:
    """Create, delete and replace pods (stateful_set_control.go's updateStatefulSet)."""
    spec = sts.get("spec") or {}
    set_name = str(meta(sts).get("name", ""))
    monotonic = spec.get("podManagementPolicy") != "Parallel"
    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    partition = int(((strategy.get("rollingUpdate") or {}).get("partition")) or 0) if rolling else 0

    # the first unhealthy pod: replicas in ascending order, then the condemned descending
    first_unhealthy = None  # type: Optional[str]
    for n in sorted(replicas):
        if not is_healthy(replicas[n].obj):
            first_unhealthy = replicas[n].key
            break
    if first_unhealthy is None:
        for c in condemned:
            if not is_healthy(c.obj):
                first_unhealthy = c.key
                break

    for n in range(wanted):
        pod_item = replicas.get(n)
        if pod_item is not None and _terminal(pod_item.obj) and not _deleting(pod_item.obj):
            # a failed pod is deleted now and made again once its key is gone
            plan.actions.append(Delete(pod_item.key, pod_item.mod_revision))
            plan.event(sts, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful" % (meta(pod_item.obj).get("name"), set_name))
            if monotonic:
                return
            continue
        if pod_item is None:
            use_current = rolling and n < partition
            template = current_template if use_current else update_template
            revision = current_rev if use_current else update_rev
            _create(plan, sts, view, template, revision, n)
            if monotonic:
                return
            continue
        if _deleting(pod_item.obj):
            if monotonic:
                return  # its name comes back only once the old object is gone
            continue
        if not is_healthy(pod_item.obj) and monotonic:
            return
        fixed = _identity_fix(sts, pod_item.obj, n)
        if fixed is not None:
            plan.actions.append(Put(pod_item.key, fixed, pod_item.mod_revision))

    for c in condemned:
        if _deleting(c.obj):
            if monotonic:
                return
            continue
        if monotonic and not is_healthy(c.obj) and c.key != first_unhealthy:
            return
        plan.actions.extend(poddeletion.delete_pod(c, now))
        plan.event(sts, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful" % (meta(c.obj).get("name"), set_name))
        if monotonic:
            return

    if not rolling:
        return  # OnDelete: the user deletes, we re-create at the update revision
    for n in range(wanted - 1, partition - 1, -1):
        pod_item = replicas.get(n)
        if pod_item is None:
            return
        if _revision_of(pod_item.obj) != update_rev and not _deleting(pod_item.obj):
            plan.actions.extend(poddeletion.delete_pod(pod_item, now))
            plan.event(sts, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful" % (meta(pod_item.obj).get("name"), set_name))
            return
        if not is_healthy(pod_item.obj):
            return


def _create(plan: _Plan, sts: Obj, view: View, template: Obj, revision: str, n: int) -> None:
    set_name = str(meta(sts).get("name", ""))
    namespace = str(meta(sts).get("namespace") or "default")
    pod = new_pod(sts, template, revision, n)
    pod_name = meta(pod).get("name")
    for claim_template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        name = claim_name(claim_template, set_name, n)
        if view.get("%s%s/%s" % (CLAIMS, namespace, name)) is None:
            plan.actions.append(Create(CLAIMS, new_claim(sts, claim_template, n)))
            plan.event(sts, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success" % (name, pod_name, set_name))
    plan.actions.append(podcontrol.create_pod(pod))
    plan.event(sts, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful" % (pod_name, set_name))


def _identity_fix(sts: Obj, pod: Obj, n: int) -> Optional[Obj]:
    """The pod with its identity labels, hostname and subdomain restored; None if right."""
    set_name = str(meta(sts).get("name", ""))
    name = "%s-%d" % (set_name, n)
    labels = meta(pod).get("labels") or {}
    spec = pod.get("spec") or {}
    service = (sts.get("spec") or {}).get("serviceName") or None
    if labels.get(POD_NAME_LABEL) == name and labels.get(POD_INDEX_LABEL) == str(n) and spec.get("hostname") == name and spec.get("subdomain") == service:
        return None
    new_labels = dict(labels)
    new_labels[POD_NAME_LABEL] = name
    new_labels[POD_INDEX_LABEL] = str(n)
    new_spec = dict(spec, hostname=name)
    if service:
        new_spec["subdomain"] = service
    else:
        new_spec.pop("subdomain", None)
    return dict(pod, metadata=dict(meta(pod), labels=new_labels), spec=new_spec)


def _scaled_claims(sts: Obj, view: View, namespace: str, wanted: int, owned: List[Item]) -> List[Action]:
    """whenScaled: Delete: the claims of ordinals >= replicas go once their pod is gone."""
    spec = sts.get("spec") or {}
    if ((spec.get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled")) != "Delete":
        return []
    set_name = str(meta(sts).get("name", ""))
    alive = {ordinal_of(set_name, str(meta(i.obj).get("name", ""))) for i in owned}
    out: List[Action] = []
    for template in spec.get("volumeClaimTemplates") or []:
        head = "%s-" % meta(template).get("name", "")
        for c in view.list(CLAIMS + namespace + "/"):
            cname = str(meta(c.obj).get("name", ""))
            if not cname.startswith(head):
                continue
            n = ordinal_of(set_name, cname[len(head):])
            if n >= wanted and n not in alive:
                out.append(Delete(c.key, c.mod_revision))
    return out


def compute_status(sts: Obj, owned: List[Item], current_rev: str, update_rev: str, now: datetime.datetime) -> Obj:
    """The status Kubernetes writes (computeReplicaStatus, then completeRollingUpdate)."""
    spec = sts.get("spec") or {}
    old = sts.get("status") or {}
    min_raw = spec.get("minReadySeconds")
    min_ready = min_raw if isinstance(min_raw, int) else 0
    replicas = ready = available = current = updated = 0
    for i in owned:
        pod = i.obj
        replicas += 1
        if (pod.get("status") or {}).get("phase") == "Running" and pod_is_ready(pod):
            ready += 1
            if _ready_for(pod, now) >= min_ready:
                available += 1
        if not _deleting(pod):
            rev = _revision_of(pod)
            if rev == current_rev:
                current += 1
            if rev == update_rev:
                updated += 1
    status: Obj = dict(old)
    status.update({
        "replicas": replicas,
        "readyReplicas": ready,
        "availableReplicas": available,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_rev,
        "updateRevision": update_rev,
        "collisionCount": int(old.get("collisionCount") or 0),
    })
    generation = meta(sts).get("generation")
    if isinstance(generation, int):
        status["observedGeneration"] = generation
    rolling = (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    if rolling and updated == replicas and ready == replicas:
        status["currentReplicas"] = updated
        status["currentRevision"] = update_rev
    return status


# -- which sets to sync again ---------------------------------------------------------------

def _namespace_of(key: str, prefix: str) -> str:
    return key[len(prefix):].split("/", 1)[0]


def related(change: Change, view: View) -> List[str]:
    """A set's own change; a pod or revision change: its controlling set, or (an orphan pod)
    every set in its namespace whose selector matches; a claim change: the sets of its
    namespace (a claim named after one of their templates)."""
    if change.key.startswith(STATEFULSETS):
        return [change.key]
    keys: List[str] = []
    for prefix in (PODS, REVISIONS, CLAIMS):
        if not change.key.startswith(prefix):
            continue
        namespace = _namespace_of(change.key, prefix)
        for version in (change.old, change.new):
            if version is None:
                continue
            ref = controller_ref(version.obj)
            if ref is not None:
                if ref.get("kind") == "StatefulSet":
                    k = "%s%s/%s" % (STATEFULSETS, namespace, ref.get("name"))
                    if k not in keys:
                        keys.append(k)
                continue
            for s in view.list(STATEFULSETS + namespace + "/"):
                if s.key in keys:
                    continue
                if prefix == CLAIMS:
                    if _claims_of(s.obj, str(meta(version.obj).get("name", ""))):
                        keys.append(s.key)
                    continue
                sel = _selector(s.obj)
                if sel is not None and selectors.matches(sel, meta(version.obj).get("labels")):
                    keys.append(s.key)
    return keys


def _claims_of(sts: Obj, claim: str) -> bool:
    set_name = str(meta(sts).get("name", ""))
    for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or []:
        head = "%s-" % meta(template).get("name", "")
        if claim.startswith(head) and ordinal_of(set_name, claim[len(head):]) >= 0:
            return True
    return False


CONTROLLER = Controller(
    name="statefulset",
    primary=STATEFULSETS,
    watches=(STATEFULSETS, PODS, CLAIMS, REVISIONS),
    sync=sync,
    related=related,
    workers=1,
)
