"""What ``kubeform rollout`` decides for DaemonSets and StatefulSets, as kubectl decides it.

Deployments keep their history in ReplicaSets (rollout.py); DaemonSets and StatefulSets
keep it in ControllerRevisions their controller writes (``<name>-<hash>``, ``revision``
a number, ``data`` the pod template as a replacing patch). Pure functions of stored
objects: kubectl's DaemonSetStatusViewer and StatefulSetStatusViewer lines word for word,
the history table, the template of a revision and the template ``undo`` goes back to
(kubectl's DaemonSetRollbacker/StatefulSetRollbacker: the second-highest revision, or
``--to-revision``).
"""

from __future__ import annotations

import copy
from typing import Any

from kubeform.api.objects import is_controlled_by, meta
from kubeform.errors import UserError
from kubeform.reconciler.controllers.revisions import template_of_revision
from kubeform.store.rollout import RolloutStatus, history_lines

Obj = dict[str, Any]
#: the kinds whose rollouts go through ControllerRevisions
KINDS = ("DaemonSet", "StatefulSet")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _strategy(obj: Obj) -> Obj:
    return (obj.get("spec") or {}).get("updateStrategy") or {}


def status_of(kind: str, obj: Obj) -> RolloutStatus:
    """kubectl's status line of a DaemonSet or a StatefulSet (``kind``)."""
    if kind == "DaemonSet":
        return daemonset_status(obj)
    return statefulset_status(obj)


def daemonset_status(ds: Obj) -> RolloutStatus:
    name = meta(ds).get("name", "")
    st = ds.get("status") or {}
    if _strategy(ds).get("type", "RollingUpdate") != "RollingUpdate":
        return RolloutStatus("", True, "rollout status is only available for RollingUpdate strategy type")
    if _int(meta(ds).get("generation")) > _int(st.get("observedGeneration")):
        return RolloutStatus("Waiting for daemon set spec update to be observed...", False)
    desired = _int(st.get("desiredNumberScheduled"))
    updated = _int(st.get("updatedNumberScheduled"))
    available = _int(st.get("numberAvailable"))
    if updated < desired:
        return RolloutStatus(
            f'Waiting for daemon set "{name}" rollout to finish: {updated} out of {desired} new pods have been updated...',
            False,
        )
    if available < desired:
        return RolloutStatus(
            f'Waiting for daemon set "{name}" rollout to finish: {available} of {desired} updated pods are available...',
            False,
        )
    return RolloutStatus(f'daemon set "{name}" successfully rolled out', True)


def statefulset_status(sts: Obj) -> RolloutStatus:
    st = sts.get("status") or {}
    spec = sts.get("spec") or {}
    strategy = _strategy(sts)
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return RolloutStatus("", True, "rollout status is only available for RollingUpdate strategy type")
    observed = _int(st.get("observedGeneration"))
    if observed == 0 or _int(meta(sts).get("generation")) > observed:
        return RolloutStatus("Waiting for statefulset spec update to be observed...", False)
    replicas = spec.get("replicas", 1)
    ready = _int(st.get("readyReplicas"))
    updated = _int(st.get("updatedReplicas"))
    if isinstance(replicas, int) and ready < replicas:
        return RolloutStatus(f"Waiting for {replicas - ready} pods to be ready...", False)
    rolling = strategy.get("rollingUpdate")
    if isinstance(rolling, dict):
        partition = rolling.get("partition")
        if isinstance(replicas, int) and isinstance(partition, int):
            if updated < replicas - partition:
                return RolloutStatus(
                    f"Waiting for partitioned roll out to finish: {updated} out of {replicas - partition} new pods have been updated...",
                    False,
                )
        return RolloutStatus(f"partitioned roll out complete: {updated} new pods have been updated...", True)
    update_rev = st.get("updateRevision") or ""
    if update_rev != (st.get("currentRevision") or ""):
        return RolloutStatus(
            f"waiting for statefulset rolling update to complete {updated} pods at revision {update_rev}...", False
        )
    return RolloutStatus(
        f"statefulset rolling update complete {_int(st.get('currentReplicas'))} pods at revision {st.get('currentRevision') or ''}...",
        True,
    )


def history(owner: Obj, revisions: list[Obj]) -> list[tuple[int, Obj]]:
    """(revision, ControllerRevision) of the owner's revisions, oldest first."""
    out = {_int(r.get("revision")): r for r in revisions if is_controlled_by(r, owner) and _int(r.get("revision")) > 0}
    return sorted(out.items())


def history_table(owner: Obj, revisions: list[Obj]) -> list[str]:
    return history_lines(history(owner, revisions))


def template_of(revision: Obj) -> Obj:
    """The pod template a ControllerRevision records (its replacing patch undone)."""
    return template_of_revision(revision) or {}


def revision_template(owner: Obj, revisions: list[Obj], number: int) -> Obj:
    for rev, cr in history(owner, revisions):
        if rev == number:
            return template_of(cr)
    raise UserError(f"unable to find the specified revision {number}")


def undo_target(owner: Obj, revisions: list[Obj], to_revision: int = 0) -> tuple[int, Obj]:
    """(revision, ControllerRevision) ``undo`` goes back to: ``to_revision``, or the
    second-highest revision (kubectl's findHistory)."""
    revs = history(owner, revisions)
    if to_revision > 0:
        for rev, cr in revs:
            if rev == to_revision:
                return rev, cr
    elif len(revs) >= 2:
        return revs[-2]
    raise UserError(f"unable to find specified revision {to_revision} in history")


def rolled_back(owner: Obj, revision: Obj) -> Obj | None:
    """The owner with the revision's template; None when it already has that template."""
    template = template_of(revision)
    if template == ((owner.get("spec") or {}).get("template") or {}):
        return None
    new = copy.deepcopy(owner)
    new.setdefault("spec", {})["template"] = template
    return new
