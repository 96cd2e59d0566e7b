"""What ``kubeform rollout`` and ``kubeform set image`` decide, as kubectl decides it.

Pure functions of stored objects (the CLI reads and writes them): the rollout status
line of a Deployment (kubectl's DeploymentStatusViewer, word for word), its revision
history from the ReplicaSets it controls, the template ``undo`` goes back to (kubectl's
DeploymentRollbacker: the previous revision, or ``--to-revision``), and the containers
``set image`` changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubeform.api.objects import is_controlled_by, meta
from kubeform.api.rollout import NOT_COPIED, RESTARTED_AT, equal_ignore_hash, revision, without_hash
from kubeform.errors import UserError

Obj = dict[str, Any]
CHANGE_CAUSE = "kubernetes.io/change-cause"


@dataclass(frozen=True)
class RolloutStatus:
    """One look at a rollout: kubectl's line, whether it is done, or the error."""

    message: str
    done: bool
    error: str | None = None


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def status_of(deploy: Obj) -> RolloutStatus:
    name = meta(deploy).get("name", "")
    st = deploy.get("status") or {}
    spec = deploy.get("spec") or {}
    if _int(meta(deploy).get("generation")) > _int(st.get("observedGeneration")):
        return RolloutStatus("Waiting for deployment spec update to be observed...", False)
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus("", False, f'deployment "{name}" exceeded its progress deadline')
    want = spec.get("replicas", 1)
    updated = _int(st.get("updatedReplicas"))
    replicas = _int(st.get("replicas"))
    available = _int(st.get("availableReplicas"))
    if isinstance(want, int) and updated < want:
        return RolloutStatus(
            f'Waiting for deployment "{name}" rollout to finish: {updated} out of {want} new replicas have been updated...',
            False,
        )
    if replicas > updated:
        return RolloutStatus(
            f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} old replicas are pending termination...',
            False,
        )
    if available < updated:
        return RolloutStatus(
            f'Waiting for deployment "{name}" rollout to finish: {available} of {updated} updated replicas are available...',
            False,
        )
    return RolloutStatus(f'deployment "{name}" successfully rolled out', True)


def owned_replicasets(deploy: Obj, replicasets: list[Obj]) -> list[Obj]:
    return [rs for rs in replicasets if is_controlled_by(rs, deploy)]


def history(deploy: Obj, replicasets: list[Obj]) -> list[tuple[int, Obj]]:
    """(revision, ReplicaSet) of every revision the Deployment still has, oldest first."""
    out = {revision(rs): rs for rs in owned_replicasets(deploy, replicasets) if revision(rs) > 0}
    return sorted(out.items())


def history_lines(revisions: list[tuple[int, Obj]]) -> list[str]:
    """kubectl's `rollout history` table of (revision, object carrying the change-cause)."""
    lines = ["REVISION  CHANGE-CAUSE"]
    for rev, obj in revisions:
        cause = (meta(obj).get("annotations") or {}).get(CHANGE_CAUSE) or "<none>"
        lines.append(f"{rev:<9} {cause}")
    return lines


def history_table(deploy: Obj, replicasets: list[Obj]) -> list[str]:
    return history_lines(history(deploy, replicasets))


def revision_template(deploy: Obj, replicasets: list[Obj], number: int) -> Obj:
    for rev, rs in history(deploy, replicasets):
        if rev == number:
            return (rs.get("spec") or {}).get("template") or {}
    raise UserError(f"unable to find the specified revision {number}")


def undo_target(deploy: Obj, replicasets: list[Obj], to_revision: int = 0) -> tuple[int, Obj]:
    """(revision, ReplicaSet) ``rollout undo`` goes back to: ``to_revision``, or the one
    before the current (highest) revision."""
    name = meta(deploy).get("name", "")
    revs = history(deploy, replicasets)
    if to_revision > 0:
        for rev, rs in revs:
            if rev == to_revision:
                return rev, rs
        raise UserError(f"unable to find specified revision {to_revision} in history")
    if len(revs) < 2:
        raise UserError(f'no rollout history found for deployment "{name}"')
    return revs[-2]


def rolled_back(deploy: Obj, rs: Obj) -> Obj | None:
    """The Deployment with the ReplicaSet's template (and its annotations); None when the
    template is already that one."""
    template = (rs.get("spec") or {}).get("template") or {}
    if equal_ignore_hash(template, (deploy.get("spec") or {}).get("template")):
        return None
    new = copy.deepcopy(deploy)
    new["spec"]["template"] = without_hash(template)
    annotations = dict(meta(new).get("annotations") or {})
    for k, v in (meta(rs).get("annotations") or {}).items():
        if k not in NOT_COPIED:
            annotations[k] = v
    if annotations:
        new["metadata"]["annotations"] = annotations
    return new


def restarted(deploy: Obj, stamp: str) -> Obj:
    """The Deployment with its template stamped (a new template: every pod is replaced)."""
    new = copy.deepcopy(deploy)
    tmeta = new.setdefault("spec", {}).setdefault("template", {}).setdefault("metadata", {})
    tmeta.setdefault("annotations", {})[RESTARTED_AT] = stamp
    return new


def pod_spec_of(obj: Obj) -> Obj:
    """The pod spec a workload (its template) or a Pod carries."""
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        return ((((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")) or {}
    return (spec.get("template") or {}).get("spec") or {}


def parse_images(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, image = pair.partition("=")
        if not sep or not name or not image:
            raise UserError(f"expected CONTAINER=IMAGE, got {pair!r}")
        out[name] = image
    return out


def with_images(obj: Obj, images: dict[str, str]) -> Obj:
    """The object with its containers' (and init containers') images set; ``*`` names them
    all. A container name the object does not have is an error, as in kubectl."""
    new = copy.deepcopy(obj)
    spec = pod_spec_of(new)
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    names = {c.get("name") for c in containers}
    for name in images:
        if name != "*" and name not in names:
            raise UserError(f'unable to find container named "{name}"')
    for c in containers:
        image = images.get(c.get("name"), images.get("*"))
        if image is not None:
            c["image"] = image
    return new
