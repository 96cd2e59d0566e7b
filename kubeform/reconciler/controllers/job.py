"""Job: run pods until ``completions`` of them succeed, or give up as Kubernetes does.

What it does, for one Job (Kubernetes' pkg/controller/job, in small):

- Counts every finished pod exactly once. Pods are created with the tracking finalizer
  ``batch.kubernetes.io/job-tracking`` (as upstream); a pod that Succeeded, Failed or is
  being deleted while not Succeeded (upstream counts that as a failure) is added to
  ``status.succeeded``/``failed`` in the same transaction that removes its finalizer, so
  a crash between the two cannot happen and no pod is counted twice, even after it is gone.
- Keeps ``min(parallelism, completions - succeeded)`` pods active (``parallelism`` with no
  ``completions``: until one succeeds, then no new ones). A replacement after failures
  waits Kubernetes' back-off: 10 s doubled for each failure since the last success,
  capped at 10 minutes, counted from when the last failed pod finished.
- Fails the Job (condition Failed, reasons ``BackoffLimitExceeded`` when more pods failed
  than ``backoffLimit`` or, for restartPolicy OnFailure, when the active pods' containers
  restarted ``backoffLimit`` times; ``DeadlineExceeded`` after ``activeDeadlineSeconds``
  from ``startTime``), deleting its active pods, with a Warning event.
- ``podFailurePolicy`` (podfailurepolicy.py): each failed pod is judged by the rules as it
  is counted; ``FailJob`` fails the Job (reason ``PodFailurePolicy``) in that same
  transaction, ``Ignore`` leaves it out of ``status.failed`` and the backoffLimit.
- Completes it (condition Complete, ``completionTime``, a ``Completed`` event).
- ``completionMode: Indexed``: one pod per index 0..completions-1, named
  ``<job>-<index>-xxxxx``, with the index in the annotation and label
  ``batch.kubernetes.io/job-completion-index``, ``JOB_COMPLETION_INDEX`` in every
  container's environment (downward API from that annotation) and hostname
  ``<job>-<index>``; ``status.completedIndexes`` lists the succeeded ones ("0-2,5").
- ``backoffLimitPerIndex`` (Indexed only): each index has its own failure count, carried
  from a failed pod to its replacement in the annotation
  ``batch.kubernetes.io/job-index-failure-count`` (as upstream), and its own back-off. An
  index that failed more than the limit (or whose pod matched a ``FailIndex`` rule) is
  listed in ``status.failedIndexes`` and gets no more pods; more failed indexes than
  ``maxFailedIndexes`` fail the Job (``MaxFailedIndexesExceeded``) at once, and a Job
  whose every index succeeded or failed with some failed ends Failed (``FailedIndexes``).
- A failing Job gets ``FailureTarget`` beside ``Failed`` (same reason and message), as
  Kubernetes 1.31+ ends one (upstream sets Failed once the pods are gone; here their
  deletion is decided in the same sync).
- ``suspend``: deletes the active pods, condition Suspended; resuming restarts the clock.
- ``ttlSecondsAfterFinished`` (upstream's TTL-after-finished controller, here in the same
  sync): that long after the Job finished it is deleted in the foreground, as upstream's
  controller asks the apiserver (``deletionTimestamp`` and the ``foregroundDeletion``
  finalizer): the garbage collector deletes its pods, then the Job.
- A Job being deleted, or gone (a CronJob deletes old Jobs in the background), only lets
  go of its pods: the tracking finalizer is removed from every pod it controlled
  (upstream's job controller does so too), so the garbage collector's deletion of them
  is not held up.

Time-driven parts (deadline, back-off, TTL) ask for a ``Requeue`` at the right moment.
A Job created by a controller (a CronJob's) has no selector yet: the apiserver fills it
in from the uid on create, here the first sync does (one Put, then the rest).
"""

import copy
import datetime
from typing import AbstractSet, Any, Dict, List, NamedTuple, Optional, Set, Tuple

from kubeform.api import defaults, deletion, events
from kubeform.api.nodes import parse_time
from kubeform.api.objects import (
    condition,
    controller_ref,
    is_controlled_by,
    meta,
    pod_is_ready,
    set_condition,
)

from .. import podcontrol
from ..machinery.actions import Action, CreateEvent, Put, Requeue
from ..machinery.cache import Change, Item
from ..poddeletion import delete_pod
from . import podfailurepolicy
from .base import Controller, View

Obj = Dict[str, Any]

JOBS = "/registry/jobs/"
PODS = podcontrol.PODS
COMPONENT = "job-controller"
TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
INDEX_KEY = "batch.kubernetes.io/job-completion-index"
INDEX_ENV = "JOB_COMPLETION_INDEX"
FAILURE_COUNT_KEY = "batch.kubernetes.io/job-index-failure-count"
#: Kubernetes' DefaultJobPodFailureBackOff and MaxJobPodFailureBackOff.
BACKOFF_BASE = 10.0
BACKOFF_MAX = 600.0

BACKOFF_REASON = "BackoffLimitExceeded"
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_REASON = "DeadlineExceeded"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
MAX_FAILED_INDEXES_REASON = "MaxFailedIndexesExceeded"
MAX_FAILED_INDEXES_MESSAGE = "Job has exceeded the specified maximal number of failed indexes"
FAILED_INDEXES_REASON = "FailedIndexes"
FAILED_INDEXES_MESSAGE = "Job has failed indexes"


def job_key(namespace: str, name: str) -> str:
    return "%s%s/%s" % (JOBS, namespace, name)


def is_finished(job: Obj) -> Optional[str]:
    """"Complete" or "Failed" when the Job has finished, else None."""
    for kind in ("Complete", "Failed"):
        cond = condition(job, kind)
        if cond is not None and cond.get("status") == "True":
            return kind
    return None


def finish_time(job: Obj) -> Optional[datetime.datetime]:
    """When the Job finished: completionTime, else its finishing condition's transition."""
    status = job.get("status") or {}
    if status.get("completionTime"):
        return parse_time(str(status["completionTime"]))
    kind = is_finished(job)
    cond = condition(job, kind) if kind else None
    return parse_time(str((cond or {}).get("lastTransitionTime") or "")) if cond else None


# -- indexes -------------------------------------------------------------------------------


def parse_indexes(text: str) -> Set[int]:
    """``status.completedIndexes`` ("0-2,5") as a set; what does not parse is skipped."""
    out: Set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        if lo.isdigit() and (not hi or hi.isdigit()):
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def format_indexes(indexes: AbstractSet[int]) -> str:
    """A set of indexes as Kubernetes writes completedIndexes: sorted ranges, "1,3-5"."""
    parts: List[str] = []
    run: List[int] = []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            parts.append(_run(run))
        run = [i]
    if run:
        parts.append(_run(run))
    return ",".join(parts)


def _run(run: List[int]) -> str:
    return str(run[0]) if len(run) == 1 else "%d-%d" % (run[0], run[-1])


def per_index_limit(spec: Obj) -> Optional[int]:
    """``backoffLimitPerIndex`` of an Indexed Job (None: the Job has no per-index limit)."""
    limit = spec.get("backoffLimitPerIndex")
    if spec.get("completionMode") != "Indexed" or isinstance(limit, bool) or not isinstance(limit, int):
        return None
    return limit


def failure_count(pod: Obj) -> int:
    """How many earlier pods of this pod's index failed (its per-index annotation)."""
    text = str((meta(pod).get("annotations") or {}).get(FAILURE_COUNT_KEY) or "")
    return int(text) if text.isdigit() else 0


def pod_index(pod: Obj) -> Optional[int]:
    value = (meta(pod).get("annotations") or {}).get(INDEX_KEY)
    if value is None:
        value = (meta(pod).get("labels") or {}).get(INDEX_KEY)
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


# -- pods ----------------------------------------------------------------------------------


def _phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def _deleting(pod: Obj) -> bool:
    return bool(meta(pod).get("deletionTimestamp"))


def tracked(pod: Obj) -> bool:
    return TRACKING_FINALIZER in (meta(pod).get("finalizers") or [])


def untracked(pod: Obj) -> Obj:
    """A copy of ``pod`` without the tracking finalizer."""
    pmeta = dict(meta(pod))
    rest = [f for f in pmeta.get("finalizers") or [] if f != TRACKING_FINALIZER]
    if rest:
        pmeta["finalizers"] = rest
    else:
        pmeta.pop("finalizers", None)
    return dict(pod, metadata=pmeta)


def terminated_as(pod: Obj) -> Optional[str]:
    """"Succeeded" or "Failed" once the pod counts as finished (a pod being deleted that
    did not succeed is a failure, as upstream's isPodFailed), else None."""
    phase = _phase(pod)
    if phase in ("Succeeded", "Failed"):
        return phase
    return "Failed" if _deleting(pod) else None


def _container_statuses(pod: Obj) -> List[Obj]:
    status = pod.get("status") or {}
    return list(status.get("initContainerStatuses") or []) + list(status.get("containerStatuses") or [])


def pod_finished_at(pod: Obj) -> Optional[datetime.datetime]:
    """When the pod's last container ended (None: not known)."""
    times = []
    for cs in _container_statuses(pod):
        when = ((cs.get("state") or {}).get("terminated") or {}).get("finishedAt")
        t = parse_time(str(when)) if when else None
        if t is not None:
            times.append(t)
    return max(times) if times else None


def restarts(pods: List[Obj]) -> int:
    """Container restarts of the running and pending pods (upstream's OnFailure back-off)."""
    total = 0
    for pod in pods:
        if _phase(pod) in ("Running", "Pending"):
            total += sum(int(cs.get("restartCount") or 0) for cs in _container_statuses(pod))
    return total


def backoff_delay(failures: int) -> float:
    if failures <= 0:
        return 0.0
    return float(min(BACKOFF_MAX, BACKOFF_BASE * (2 ** min(failures - 1, 30))))


def backoff_wait(pods: List[Obj], now: datetime.datetime) -> float:
    """Seconds before a new pod may be created after failures (0: now); for one index of
    a Job with a per-index limit, ``pods`` are that index's."""
    last_success: Optional[datetime.datetime] = None
    for pod in pods:
        if _phase(pod) == "Succeeded":
            t = pod_finished_at(pod)
            if t is not None and (last_success is None or t > last_success):
                last_success = t
    failed_times = []
    for pod in pods:
        if _phase(pod) == "Failed":
            t = pod_finished_at(pod)
            if t is not None and (last_success is None or t > last_success):
                failed_times.append(t)
    if not failed_times:
        return 0.0
    ready_at = max(failed_times) + datetime.timedelta(seconds=backoff_delay(len(failed_times)))
    return max(0.0, (ready_at - now).total_seconds())


def index_failures(spec: Obj, pods: List[Obj]) -> Dict[int, int]:
    """Failures so far of each index (per-index limit): the highest failure count a failed
    pod of the index carried, plus one when its failure counts (podFailurePolicy)."""
    out: Dict[int, int] = {}
    for pod in pods:
        index = pod_index(pod)
        if index is None or terminated_as(pod) != "Failed":
            continue
        counts = podfailurepolicy.judge(spec.get("podFailurePolicy"), pod).counts if _phase(pod) == "Failed" else True
        out[index] = max(out.get(index, 0), failure_count(pod) + (1 if counts else 0))
    return out


def new_pod(job: Obj, index: Optional[int], failures: Optional[int] = None) -> Obj:
    """The pod the Job creates (for ``index`` in Indexed mode; ``failures``: that index's
    failures so far, for a Job with a per-index limit), with the tracking finalizer."""
    jmeta = meta(job)
    spec = job.get("spec") or {}
    template = spec.get("template") or {}
    name = str(jmeta.get("name") or "")
    if index is None:
        pod = podcontrol.pod_from_template(job, template, generate_name=name + "-")
    else:
        pod = podcontrol.pod_from_template(
            job, template, generate_name="%s-%d-" % (name, index), extra_labels={INDEX_KEY: str(index)}
        )
        annotations = dict(pod["metadata"].get("annotations") or {})
        annotations[INDEX_KEY] = str(index)
        if failures is not None:
            annotations[FAILURE_COUNT_KEY] = str(failures)
        pod["metadata"]["annotations"] = annotations
        pspec = pod["spec"]
        if not pspec.get("hostname"):
            pspec["hostname"] = "%s-%d" % (name, index)
        env_var = {
            "name": INDEX_ENV,
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['%s']" % INDEX_KEY}},
        }
        for group in ("initContainers", "containers"):
            for c in pspec.get(group) or []:
                env = [e for e in c.get("env") or [] if e.get("name") != INDEX_ENV]
                c["env"] = [*env, dict(env_var)]
    pod["metadata"]["finalizers"] = [TRACKING_FINALIZER]
    return pod


# -- the decision --------------------------------------------------------------------------


class Counted(NamedTuple):
    succeeded: int
    failed: int
    completed: Set[int]  # Indexed: succeeded indexes
    actions: List[Action]  # Puts dropping the finalizer of the pods just counted
    pods: List[Item]  # the owned pods as they will be after those Puts
    fail_job: Optional[str] = None  # a podFailurePolicy FailJob rule matched: the message
    failed_indexes: AbstractSet[int] = frozenset()  # per-index limit: the indexes that failed for good


def count_finished(job: Obj, owned: List[Item]) -> Counted:
    """Add the finished pods not yet counted to the Job's counts (see the module doc)."""
    status = job.get("status") or {}
    spec = job.get("spec") or {}
    indexed = spec.get("completionMode") == "Indexed"
    completions = spec.get("completions")
    succeeded = int(status.get("succeeded") or 0)
    failed = int(status.get("failed") or 0)
    completed = parse_indexes(str(status.get("completedIndexes") or "")) if indexed else set()
    limit = per_index_limit(spec)
    failed_indexes = parse_indexes(str(status.get("failedIndexes") or "")) if limit is not None else set()
    failures = index_failures(spec, [i.obj for i in owned]) if limit is not None else {}
    actions: List[Action] = []
    pods: List[Item] = []
    fail_job: Optional[str] = None
    for item in owned:
        pod = item.obj
        outcome = terminated_as(pod)
        if outcome is None or not tracked(pod):
            pods.append(item)
            continue
        if outcome == "Succeeded":
            index = pod_index(pod)
            if not indexed:
                succeeded += 1
            elif index is not None and isinstance(completions, int) and index < completions:
                completed.add(index)
        else:
            verdict = podfailurepolicy.judge(spec.get("podFailurePolicy"), pod) if _phase(pod) == "Failed" else podfailurepolicy.COUNTED
            failed += 1 if verdict.counts else 0
            fail_job = fail_job or verdict.fail_job
            index = pod_index(pod)
            if limit is not None and index is not None and index not in completed:
                if verdict.fail_index or failures.get(index, 0) > limit:
                    failed_indexes.add(index)
        obj = untracked(pod)
        actions.append(Put(item.key, obj, item.mod_revision))
        pods.append(Item(item.key, obj, item.mod_revision))
    if indexed:
        succeeded = len(completed)
    return Counted(succeeded, failed, completed, actions, pods, fail_job, failed_indexes)




def needs_selector(job: Obj) -> bool:
    spec = job.get("spec") or {}
    return not spec.get("selector") and not spec.get("manualSelector") and bool(meta(job).get("uid"))


def with_selector(job: Obj) -> Obj:
    """The Job with the selector and pod labels the apiserver derives from its uid."""
    out = copy.deepcopy(job)
    defaults.job_spec(out.setdefault("spec", {}), name=meta(job).get("name"), uid=meta(job).get("uid"))
    return out


def remove_pods(pods: List[Item], now: datetime.datetime, count_failed: bool, actions: List[Action]) -> int:
    """Delete ``pods`` (active ones); with ``count_failed`` each counts as a failure now
    (upstream counts a deleted, unfinished pod as failed); returns how many were counted."""
    counted = 0
    for item in pods:
        obj = untracked(item.obj) if tracked(item.obj) else item.obj
        if count_failed and tracked(item.obj):
            counted += 1
        for a in list(actions):
            if isinstance(a, Put) and a.key == item.key:
                actions.remove(a)
        actions.extend(delete_pod(Item(item.key, item.obj, item.mod_revision), now, obj))
    return counted


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return release_orphans(key, view)
    job = item.obj
    jmeta = meta(job)
    if jmeta.get("deletionTimestamp"):
        return release_pods(job, view)
    if needs_selector(job):
        return [Put(key, with_selector(job), item.mod_revision)]
    namespace = str(jmeta.get("namespace") or "default")
    candidates = view.list("%s%s/" % (PODS, namespace))
    owned, actions = podcontrol.claim(job, podcontrol.selects(job), candidates)
    counted = count_finished(job, owned)
    actions = _merge(actions, counted.actions)
    finished = is_finished(job)
    if finished:
        return _finished(item, counted, actions, now)
    return _running(item, counted, actions, now)


def release_pods(job: Obj, view: View) -> List[Action]:
    """A Job being deleted: the tracking finalizer off every pod it controls."""
    namespace = str(meta(job).get("namespace") or "default")
    return [
        Put(pod.key, untracked(pod.obj), pod.mod_revision)
        for pod in view.list("%s%s/" % (PODS, namespace))
        if tracked(pod.obj) and is_controlled_by(pod.obj, job)
    ]


def release_orphans(key: str, view: View) -> List[Action]:
    """A Job that is gone: the tracking finalizer off the pods whose controller it was
    (upstream's job controller does so for orphan pods), so they can be deleted."""
    namespace, _, name = key[len(JOBS):].partition("/")
    out: List[Action] = []
    for pod in view.list("%s%s/" % (PODS, namespace)):
        ref = controller_ref(pod.obj)
        if tracked(pod.obj) and ref is not None and ref.get("kind") == "Job" and ref.get("name") == name:
            out.append(Put(pod.key, untracked(pod.obj), pod.mod_revision))
    return out


def _merge(first: List[Action], second: List[Action]) -> List[Action]:
    """Actions with at most one Put per key (the later one wins: it saw the earlier edit)."""
    out: List[Action] = []
    for a in first + second:
        if isinstance(a, Put):
            out = [b for b in out if not (isinstance(b, Put) and b.key == a.key)]
        out.append(a)
    return out


def _finished(item: Item, counted: Counted, actions: List[Action], now: datetime.datetime) -> List[Action]:
    """A finished Job: keep counting stragglers; delete it once its TTL has passed."""
    job = item.obj
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    requeue: List[Action] = []
    if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
        done = finish_time(job)
        if done is not None:
            left = (done + datetime.timedelta(seconds=ttl) - now).total_seconds()
            if left <= 0:  # the pods' untracking Puts stay: the garbage collector deletes them next
                marked = deletion.delete_object(job, now, deletion.FOREGROUND).obj
                out: List[Action] = [a for a in actions if not (isinstance(a, Put) and a.key == item.key)]
                return out + ([Put(item.key, marked, item.mod_revision)] if marked is not None else [])
            requeue.append(Requeue(left))
    old = job.get("status") or {}
    status = dict(old)
    for field, value in (("succeeded", counted.succeeded), ("failed", counted.failed)):
        if value or field in old:
            status[field] = value
    if (job.get("spec") or {}).get("completionMode") == "Indexed" and (counted.completed or "completedIndexes" in old):
        status["completedIndexes"] = format_indexes(counted.completed)
    if per_index_limit(job.get("spec") or {}) is not None:
        status["failedIndexes"] = format_indexes(counted.failed_indexes)
    if status != old:
        actions = [Put(item.key, dict(job, status=status), item.mod_revision), *actions]
    return actions + requeue


def _count(value: Any, default: Optional[int] = None) -> Optional[int]:
    """A non-negative integer field (None or ``default`` when unset or not one)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default


def _running(item: Item, counted: Counted, actions: List[Action], now: datetime.datetime) -> List[Action]:
    job = item.obj
    spec = job.get("spec") or {}
    old_status = job.get("status") or {}
    stamp = events.rfc3339(now)
    indexed = spec.get("completionMode") == "Indexed"
    completions = _count(spec.get("completions"))
    parallelism = _count(spec.get("parallelism"), 1) or 0
    backoff_limit = _count(spec.get("backoffLimit"), 6) or 0
    suspended = bool(spec.get("suspend"))
    status: Obj = dict(copy.deepcopy(old_status))
    conditions: List[Obj] = list(status.get("conditions") or [])
    failed = counted.failed
    out_events: List[CreateEvent] = []
    requeue: List[float] = []
    created = 0

    pods = counted.pods
    active = [p for p in pods if podcontrol.is_active(p.obj)]
    pod_objs = [p.obj for p in pods]

    # start time and suspension
    was_suspended = (condition(job, "Suspended") or {}).get("status") == "True"
    if suspended:
        remove_pods(active, now, False, actions)
        active = []
        if not was_suspended:
            conditions = set_condition(conditions, {"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}, stamp)
            out_events.append(CreateEvent(job, "Suspended", "Job suspended", events.NORMAL, COMPONENT))
    else:
        if was_suspended:
            conditions = set_condition(conditions, {"type": "Suspended", "status": "False", "reason": "JobResumed", "message": "Job resumed"}, stamp)
            out_events.append(CreateEvent(job, "Resumed", "Job resumed", events.NORMAL, COMPONENT))
            status["startTime"] = stamp
        elif not status.get("startTime"):
            status["startTime"] = stamp

    # failure
    failure: Optional[Tuple[str, str]] = None
    if counted.fail_job is not None:
        failure = (podfailurepolicy.REASON, counted.fail_job)
    elif not suspended:
        on_failure = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") == "OnFailure"
        restarted = restarts([p.obj for p in active]) if on_failure else 0
        if failed > backoff_limit or (on_failure and (restarted > 0 if backoff_limit == 0 else restarted >= backoff_limit)):
            failure = (BACKOFF_REASON, BACKOFF_MESSAGE)
        deadline = spec.get("activeDeadlineSeconds")
        started = parse_time(str(status.get("startTime") or ""))
        most = _count(spec.get("maxFailedIndexes"))
        if failure is None and per_index_limit(spec) is not None and most is not None and len(counted.failed_indexes) > most:
            failure = (MAX_FAILED_INDEXES_REASON, MAX_FAILED_INDEXES_MESSAGE)
        if failure is None and isinstance(deadline, int) and started is not None:
            left = (started + datetime.timedelta(seconds=deadline) - now).total_seconds()
            if left <= 0:
                failure = (DEADLINE_REASON, DEADLINE_MESSAGE)
            else:
                requeue.append(left)

    completed = counted.completed
    succeeded = counted.succeeded
    failed_indexes = counted.failed_indexes
    if failure is None and not suspended and failed_indexes and completions is not None and len(completed | failed_indexes) >= completions:
        failure = (FAILED_INDEXES_REASON, FAILED_INDEXES_MESSAGE)
    if failure is not None:
        failed += remove_pods(active, now, True, actions)
        active = []
        requeue = []
        for kind in ("FailureTarget", "Failed"):
            conditions = set_condition(conditions, {"type": kind, "status": "True", "reason": failure[0], "message": failure[1]}, stamp)
        out_events.append(CreateEvent(job, failure[0], failure[1], events.WARNING, COMPONENT))
    elif not suspended:
        if indexed:
            complete = completions is not None and len(completed) >= completions
        elif completions is not None:
            complete = succeeded >= completions
        else:
            complete = succeeded > 0 and not active
        if complete:
            remove_pods(active, now, False, actions)
            active = []
            requeue = []
            status["completionTime"] = stamp
            conditions = set_condition(conditions, {"type": "Complete", "status": "True"}, stamp)
            out_events.append(CreateEvent(job, "Completed", "Job completed", events.NORMAL, COMPONENT))
        else:
            active, wait, created = _manage(job, active, pod_objs, succeeded, completed | failed_indexes, completions, parallelism, indexed, now, actions)
            if wait > 0:
                requeue.append(wait)

    status["active"] = len(active) + created
    status["ready"] = sum(1 for p in active if pod_is_ready(p.obj))
    status["succeeded"] = succeeded
    status["failed"] = failed
    if indexed:
        status["completedIndexes"] = format_indexes(completed)
    if per_index_limit(spec) is not None:
        status["failedIndexes"] = format_indexes(failed_indexes)
    if conditions:
        status["conditions"] = conditions
    for zero in ("active", "succeeded", "failed", "ready"):
        if status.get(zero) == 0 and zero not in old_status:
            del status[zero]  # Kubernetes omits zero counts
    out: List[Action] = []
    if status != old_status:
        new = dict(job, status=status)
        out.append(Put(item.key, new, item.mod_revision))
    out += actions
    out += out_events
    if requeue:
        out.append(Requeue(min(requeue)))
    return out


def _manage(
    job: Obj,
    active: List[Item],
    pod_objs: List[Obj],
    succeeded: int,
    completed: Set[int],
    completions: Optional[int],
    parallelism: int,
    indexed: bool,
    now: datetime.datetime,
    actions: List[Action],
) -> Tuple[List[Item], float, int]:
    """Create or delete pods towards the wanted number active: (the active pods kept, the
    back-off wait before more may be created, how many were created). Indexed:
    ``completed`` holds the indexes that need no more pods (succeeded or failed)."""
    if indexed:
        return _manage_indexed(job, active, pod_objs, completed, completions or 0, parallelism, now, actions)
    wait = backoff_wait(pod_objs, now)
    if completions is not None:
        want = max(0, min(parallelism, completions - succeeded))
    else:
        want = parallelism if succeeded == 0 else len(active)
    if len(active) > want:
        ordered = podcontrol.deletion_order(active, now)
        extra = ordered[: len(active) - want]
        remove_pods(extra, now, False, actions)
        gone = set(i.key for i in extra)
        return [p for p in active if p.key not in gone], 0.0, 0
    if len(active) < want:
        if wait > 0:
            return active, wait, 0
        for _ in range(want - len(active)):
            actions.append(podcontrol.create_pod(new_pod(job, None)))
        return active, 0.0, want - len(active)
    return active, 0.0, 0


def _manage_indexed(
    job: Obj,
    active: List[Item],
    pod_objs: List[Obj],
    completed: Set[int],
    completions: int,
    parallelism: int,
    now: datetime.datetime,
    actions: List[Action],
) -> Tuple[List[Item], float, int]:
    """One active pod per index not yet done, lowest first, up to parallelism; after
    failures the Job's back-off, or each index's own with a per-index limit."""
    keep: List[Item] = []
    extra: List[Item] = []
    seen: Set[int] = set()
    for item in podcontrol.deletion_order(active, now)[::-1]:  # the best pod of an index stays
        index = pod_index(item.obj)
        if index is None or index >= completions or index in completed or index in seen:
            extra.append(item)
            continue
        seen.add(index)
        keep.append(item)
    if len(keep) > parallelism:
        ordered = podcontrol.deletion_order(keep, now)
        extra += ordered[: len(keep) - parallelism]
        keep = ordered[len(keep) - parallelism:]
    remove_pods(extra, now, False, actions)
    room = parallelism - len(keep)
    pending = [i for i in range(completions) if i not in completed and i not in seen]
    if room <= 0 or not pending:
        return keep, 0.0, 0
    spec = job.get("spec") or {}
    if per_index_limit(spec) is None:
        wait = backoff_wait(pod_objs, now)
        if wait > 0:
            return keep, wait, 0
        for index in pending[:room]:
            actions.append(podcontrol.create_pod(new_pod(job, index)))
        return keep, 0.0, len(pending[:room])
    failures = index_failures(spec, pod_objs)
    waits = [0.0]
    created = 0
    for index in pending:
        if created >= room:
            break
        wait = backoff_wait([p for p in pod_objs if pod_index(p) == index], now) if failures.get(index) else 0.0
        if wait > 0:
            waits.append(wait)
            continue
        actions.append(podcontrol.create_pod(new_pod(job, index, failures.get(index, 0))))
        created += 1
    waiting = [w for w in waits if w > 0]
    return keep, (min(waiting) if waiting else 0.0), created


def related(change: Change, view: View) -> List[str]:
    """A Job's own changes, and its pods' (by controller reference; an orphan: every Job of
    its namespace, which may adopt it)."""
    if change.key.startswith(JOBS):
        return [change.key]
    keys: List[str] = []
    for it in (change.old, change.new):
        if it is None:
            continue
        pod = it.obj
        ns = str(meta(pod).get("namespace") or "default")
        ref = controller_ref(pod)
        if ref is not None:
            if ref.get("kind") == "Job":
                k = job_key(ns, str(ref.get("name") or ""))
                if k not in keys:
                    keys.append(k)
        else:
            for j in view.list("%s%s/" % (JOBS, ns)):
                if j.key not in keys:
                    keys.append(j.key)
    return keys


CONTROLLER = Controller(
    name="job",
    primary=JOBS,
    watches=(JOBS, PODS),
    sync=sync,
    related=related,
    workers=1,
)
