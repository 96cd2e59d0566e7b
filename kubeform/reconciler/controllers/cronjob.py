"""CronJob: create a Job at each scheduled time, as Kubernetes' cronjob controller (v2).

One sync of a CronJob, in upstream's order:

1. Its Jobs (controller reference to it): a finished one leaves ``status.active`` (event
   ``SawCompletedJob``) and moves ``lastSuccessfulTime`` forward when it completed; an
   active reference whose Job is gone leaves too (``MissingJob``). A reference written
   with the Job's creation has no uid yet (the writer stamps it): it is matched by name and
   completed with the uid once the Job is seen.
2. History: finished Jobs beyond ``successfulJobsHistoryLimit`` / ``failedJobsHistoryLimit``
   are deleted, oldest start first (``SuccessfulDelete``), in the background as upstream
   asks the apiserver: the Job goes, the garbage collector deletes its pods.
3. ``suspend``: nothing new. Otherwise the most recent unmet schedule time since
   ``lastScheduleTime`` (or creation; not before now - ``startingDeadlineSeconds``),
   counted as upstream; more than 100 missed times gives the Warning
   ``TooManyMissedTimes`` and only the most recent is considered. Too late for
   ``startingDeadlineSeconds`` -> ``MissSchedule``. ``Forbid`` with an active Job ->
   ``JobAlreadyActive``, nothing started. ``Replace`` deletes the active Jobs first.
4. The Job, named ``<cronjob>-<scheduled time in minutes since the epoch>`` (so a decision
   made twice creates it once: the writer creates only if the key is absent), from
   ``jobTemplate`` with the ``batch.kubernetes.io/cronjob-scheduled-timestamp``
   annotation, in the same transaction as ``lastScheduleTime`` and the active reference.

Every sync ends with a ``Requeue`` at the next schedule time (plus 100 ms, as upstream),
so the CronJob is looked at when it is due without anyone changing anything. Schedules
follow ``spec.timeZone`` (an IANA name read from /usr/share/zoneinfo; UTC when unset,
where upstream would use the controller manager's local zone, normally UTC too).
"""

import copy
import datetime
from typing import Any, Dict, List, Optional, Tuple

from kubeform.api import cron, deletion, events, tzif
from kubeform.api.nodes import parse_time
from kubeform.api.objects import meta, new_controller_ref

from ..machinery.actions import Action, Create, CreateEvent, Delete, Put, Requeue
from ..machinery.cache import Change, Item
from .base import Controller, View
from .job import JOBS, is_finished

Obj = Dict[str, Any]

CRONJOBS = "/registry/cronjobs/"
COMPONENT = "cronjob-controller"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: Upstream's nextScheduleDelta: requeue a little after the time, never a little before.
NEXT_DELTA = 0.1
TOO_MANY_MISSED = 100
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _epoch(t: datetime.datetime) -> int:
    return int((t - EPOCH).total_seconds() // 1)


def _time(seconds: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=seconds)


def job_name(cronjob: Obj, scheduled: int) -> str:
    """Upstream's getJobName: the CronJob's name and the scheduled time in minutes."""
    return "%s-%d" % (meta(cronjob).get("name", ""), scheduled // 60)


def most_recent(schedule: cron.AnySchedule, zone: tzif.Zone, earliest: int, now: int) -> Tuple[Optional[int], int]:
    """Upstream's mostRecentScheduleTime: the latest schedule time in (earliest, now] and
    (roughly, as upstream counts them) how many were missed; (None, 0) when none."""
    t1 = cron.next_time(schedule, earliest, zone)
    if t1 is None or now < t1:
        return None, 0
    t2 = cron.next_time(schedule, t1, zone)
    if t2 is None or now < t2:
        return t1, 1
    between = t2 - t1
    missed = (now - t1) // between + 1
    potential = t1 + (missed - 2) * between
    recent: Optional[int] = None
    t = cron.next_time(schedule, potential, zone)
    while t is not None and t <= now:
        recent = t
        t = cron.next_time(schedule, t, zone)
    if recent is None:
        return None, 0
    return recent, missed


def _earliest(cronjob: Obj, now: int, with_deadline: bool) -> int:
    status = cronjob.get("status") or {}
    created = parse_time(str(meta(cronjob).get("creationTimestamp") or ""))
    last = parse_time(str(status.get("lastScheduleTime") or ""))
    earliest = _epoch(last) if last is not None else _epoch(created) if created is not None else now
    deadline = (cronjob.get("spec") or {}).get("startingDeadlineSeconds")
    if with_deadline and isinstance(deadline, int) and not isinstance(deadline, bool):
        earliest = max(earliest, now - deadline)
    return earliest


def next_requeue(cronjob: Obj, schedule: cron.AnySchedule, zone: tzif.Zone, now: int, now_dt: datetime.datetime) -> Optional[float]:
    """Upstream's nextScheduleTimeDuration: seconds until the schedule is next due."""
    earliest = _earliest(cronjob, now, False)
    recent, _ = most_recent(schedule, zone, earliest, now)
    base = recent if recent is not None else earliest
    nxt = cron.next_time(schedule, base, zone)
    if nxt is None:
        return None
    return max(0.0, (_time(nxt) - now_dt).total_seconds() + NEXT_DELTA)


def job_from_template(cronjob: Obj, scheduled: int, zone: tzif.Zone) -> Obj:
    """Upstream's getJobFromTemplate2: the Job for the time ``scheduled``."""
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    cmeta = meta(cronjob)
    labels = dict(tmeta.get("labels") or {})
    annotations = dict(tmeta.get("annotations") or {})
    offset = zone.offset(scheduled)
    local = _time(scheduled + offset).strftime("%Y-%m-%dT%H:%M:%S")
    annotations[SCHEDULED_ANNOTATION] = local + ("Z" if offset == 0 else "%s%02d:%02d" % ("+" if offset > 0 else "-", abs(offset) // 3600, abs(offset) % 3600 // 60))
    jmeta: Obj = {
        "name": job_name(cronjob, scheduled),
        "namespace": cmeta.get("namespace") or "default",
        "labels": labels,
        "annotations": annotations,
        "ownerReferences": [new_controller_ref(cronjob)],
    }
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": jmeta, "spec": copy.deepcopy(template.get("spec") or {})}


def _ref(job: Obj) -> Obj:
    m = meta(job)
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": m.get("name", ""), "namespace": m.get("namespace", "")}
    if m.get("uid"):
        ref["uid"] = m["uid"]
    if m.get("resourceVersion"):
        ref["resourceVersion"] = m["resourceVersion"]
    return ref


def _same(ref: Obj, job: Obj) -> bool:
    m = meta(job)
    if ref.get("uid"):
        return bool(ref.get("uid") == m.get("uid"))
    return bool(ref.get("name") == m.get("name"))


def _start(job: Obj) -> str:
    return str((job.get("status") or {}).get("startTime") or "")


def delete_job(item: Item, now: datetime.datetime) -> List[Action]:
    """Delete a Job in the background, as upstream's CronJob controller asks the apiserver:
    the Job goes now and the garbage collector deletes its pods (their owner is gone)."""
    decision = deletion.delete_object(item.obj, now, deletion.BACKGROUND)
    if decision.remove:
        return [Delete(item.key, item.mod_revision)]
    return [Put(item.key, decision.obj, item.mod_revision)] if decision.obj is not None else []


def _event(cronjob: Obj, reason: str, message: str, warning: bool = False) -> CreateEvent:
    return CreateEvent(cronjob, reason, message, events.WARNING if warning else events.NORMAL, COMPONENT)


def sync(key: str, view: View, now: datetime.datetime) -> List[Action]:
    item = view.get(key)
    if item is None:
        return []
    cj = item.obj
    cmeta = meta(cj)
    if cmeta.get("deletionTimestamp"):
        return []
    spec = cj.get("spec") or {}
    namespace = str(cmeta.get("namespace") or "default")
    uid = cmeta.get("uid")
    jobs = [
        j for j in view.list("%s%s/" % (JOBS, namespace))
        if uid and any(r.get("controller") and r.get("uid") == uid for r in meta(j.obj).get("ownerReferences") or [])
    ]
    status: Obj = copy.deepcopy(cj.get("status") or {})
    active: List[Obj] = list(status.get("active") or [])
    actions: List[Action] = []
    notes: List[CreateEvent] = []

    # 1. what the Jobs say
    for j in jobs:
        finished = is_finished(j.obj)
        index = next((i for i, r in enumerate(active) if _same(r, j.obj)), None)
        if index is not None and finished:
            del active[index]
            notes.append(_event(cj, "SawCompletedJob", "Saw completed job: %s, condition: %s" % (meta(j.obj).get("name"), finished)))
        elif index is not None and not active[index].get("uid"):
            active[index] = _ref(j.obj)  # written with the Job's creation, before its uid existed
        elif index is None and not finished:
            notes.append(_event(cj, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s" % meta(j.obj).get("name"), True))
        if finished == "Complete":
            done = str((j.obj.get("status") or {}).get("completionTime") or "")
            last = parse_time(str(status.get("lastSuccessfulTime") or ""))
            when = parse_time(done) if done else None
            if when is not None and (last is None or when > last):
                status["lastSuccessfulTime"] = done
    for ref in list(active):
        if not any(_same(ref, j.obj) for j in jobs):
            active.remove(ref)
            notes.append(_event(cj, "MissingJob", "Active job went missing: %s" % ref.get("name")))

    # 2. history limits
    gone: List[str] = []
    for kind, limit_field in (("Complete", "successfulJobsHistoryLimit"), ("Failed", "failedJobsHistoryLimit")):
        limit = spec.get(limit_field)
        if not isinstance(limit, int) or isinstance(limit, bool):
            continue
        done_jobs = [j for j in jobs if is_finished(j.obj) == kind]
        done_jobs.sort(key=lambda j: (_start(j.obj) == "", _start(j.obj), meta(j.obj).get("name", "")))
        for j in done_jobs[: max(0, len(done_jobs) - limit)]:
            actions += delete_job(j, now)
            gone.append(j.key)
            notes.append(_event(cj, "SuccessfulDelete", "Deleted job %s" % meta(j.obj).get("name")))

    # 3. the schedule
    requeue: Optional[float] = None
    try:
        schedule = cron.parse(str(spec.get("schedule") or ""))
    except cron.ScheduleError as exc:
        notes.append(_event(cj, "UnparseableSchedule", "unparseable schedule: %r : %s" % (spec.get("schedule"), exc), True))
        return _finish(item, status, active, actions, notes, None)
    zone_name = spec.get("timeZone")
    try:
        zone = tzif.load(str(zone_name)) if zone_name else tzif.UTC
    except tzif.ZoneError as exc:
        notes.append(_event(cj, "UnknownTimeZone", "invalid timeZone: %r: %s" % (zone_name, exc), True))
        return _finish(item, status, active, actions, notes, None)
    t_now = _epoch(now)
    if spec.get("suspend"):
        return _finish(item, status, active, actions, notes, None)
    requeue = next_requeue(dict(cj, status=status), schedule, zone, t_now, now)
    scheduled, missed = most_recent(schedule, zone, _earliest(dict(cj, status=status), t_now, True), t_now)
    if scheduled is None:
        return _finish(item, status, active, actions, notes, requeue)
    if missed > TOO_MANY_MISSED:
        notes.append(_event(cj, "TooManyMissedTimes", "too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew" % missed, True))
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and not isinstance(deadline, bool) and scheduled + deadline < t_now:
        notes.append(_event(cj, "MissSchedule", "Missed scheduled time to start a job: %s" % _rfc1123z(scheduled), True))
        return _finish(item, status, active, actions, notes, requeue)
    name = job_name(cj, scheduled)
    last = parse_time(str(status.get("lastScheduleTime") or ""))
    if any(r.get("name") == name for r in active) or (last is not None and _epoch(last) == scheduled):
        return _finish(item, status, active, actions, notes, requeue)
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        notes.append(_event(cj, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid"))
        return _finish(item, status, active, actions, notes, requeue)
    if policy == "Replace":
        for ref in list(active):
            for j in jobs:
                if _same(ref, j.obj) and j.key not in gone:
                    actions += delete_job(j, now)
                    gone.append(j.key)
                    notes.append(_event(cj, "SuccessfulDelete", "Deleted job %s" % meta(j.obj).get("name")))
            active.remove(ref)
    job = job_from_template(cj, scheduled, zone)
    existing = view.get("%s%s/%s" % (JOBS, namespace, name))
    if existing is None:
        actions.append(Create(JOBS, job))
        notes.append(_event(cj, "SuccessfulCreate", "Created job %s" % name))
    elif existing.key not in gone:
        job = existing.obj  # made by an earlier decision whose status write was lost
    active.append(_ref(job))
    status["lastScheduleTime"] = events.rfc3339(_time(scheduled))
    return _finish(item, status, active, actions, notes, requeue)


def _rfc1123z(t: int) -> str:
    return _time(t).strftime("%a, %d %b %Y %H:%M:%S +0000")


def _finish(item: Item, status: Obj, active: List[Obj], actions: List[Action], notes: List[CreateEvent], requeue: Optional[float]) -> List[Action]:
    if active:
        status["active"] = active
    else:
        status.pop("active", None)
    out: List[Action] = []
    if status != (item.obj.get("status") or {}):
        out.append(Put(item.key, dict(item.obj, status=status), item.mod_revision))
    out += actions
    out += notes
    if requeue is not None:
        out.append(Requeue(requeue))
    return out


def related(change: Change, view: View) -> List[str]:
    """A CronJob's own changes, and its Jobs' (by controller reference)."""
    if change.key.startswith(CRONJOBS):
        return [change.key]
    keys: List[str] = []
    for it in (change.old, change.new):
        if it is None:
            continue
        ns = str(meta(it.obj).get("namespace") or "default")
        for ref in meta(it.obj).get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == "CronJob":
                k = "%s%s/%s" % (CRONJOBS, ns, ref.get("name", ""))
                if k not in keys:
                    keys.append(k)
    return keys


CONTROLLER = Controller(
    name="cronjob",
    primary=CRONJOBS,
    watches=(CRONJOBS, JOBS),  # pods are the Job controller's and the garbage collector's
    sync=sync,
    related=related,
    workers=1,
)
