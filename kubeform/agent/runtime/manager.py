"""The node runtime loop: every pod bound to this node made real through a Driver.

Why this shape (the kubelet's, in small): informers cache pods, ConfigMaps and Secrets;
every second (and at once on a change) the manager lists the driver's sandboxes and
containers and hands each pod its slice to the pod's own worker thread, so a slow image
pull never blocks another pod. A worker plans (lifecycle.plan, pure), performs the actions,
then writes the pod's status only when it changed, in a transaction on mod_revision.
Probes run on a small pool and feed verdicts back; containers and sandboxes of pods that
are gone or bound elsewhere are removed. Everything is read back from etcd and the driver
on each pass, so a killed agent converges again without duplicating anything.
"""

import datetime
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from kubeform.api import events as ev
from kubeform.api import quantity, servicemap, usage as usagemod
from kubeform.api.etcd import EtcdClient, EtcdError, key_unchanged, op_delete, op_put

from . import backoff, env as envmod, hookrecords, hooks, lifecycle, localvolumes, probes, samename, serviceaccount, serviceenv, status as statusmod, volumes
from .driver import ContainerInfo, ContainerSpec, Driver, ImageInfo, PullError, RuntimeError_, SandboxInfo, SandboxSpec
from .eventrecorder import EventRecorder
from .informer import Informer
from .podworker import PodWorker, Snapshot
from .spechashes import SpecHashes

LOG = logging.getLogger("kubeform.agent.runtime")

Obj = Dict[str, Any]

POD_PREFIX = "/registry/pods/"
CONFIGMAP_PREFIX = "/registry/configmaps/"
SECRET_PREFIX = "/registry/secrets/"
CLAIM_PREFIX = "/registry/persistentvolumeclaims/"
VOLUME_PREFIX = "/registry/persistentvolumes/"
USAGE_PERIOD = 15.0
ORPHAN_GRACE = 2.0
#: The least time between two lists of the driver (watch events come in bursts).
MIN_GAP = 0.1


def encode(obj: Obj) -> str:
    """The stored JSON (as the store writes it): compact, without resourceVersion."""
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        obj = dict(obj)
        obj["metadata"] = {k: v for k, v in meta.items() if k != "resourceVersion"}
    return json.dumps(obj, separators=(",", ":"))


def limits_of(container: Obj) -> Tuple[int, int]:
    """(cpu millis, memory bytes) of a container's resources.limits; 0 where unset or invalid
    (validation refused invalid quantities at apply)."""
    limits = (container.get("resources") or {}).get("limits") or {}
    try:
        cpu = quantity.cpu_millis(limits["cpu"]) if "cpu" in limits else 0
    except quantity.QuantityError:
        cpu = 0
    try:
        memory = quantity.amount(limits["memory"]) if "memory" in limits else 0
    except quantity.QuantityError:
        memory = 0
    return cpu, memory

def needs_pass(node: str, before: Optional[Obj], after: Optional[Obj]) -> bool:
    """Whether a pod's change (None: absent) must wake the agent of ``node`` for a pass
    now: the pod is bound there (before or after) and more than its status changed.
    Other nodes' pods starting must not wake this agent, nor the status its own workers
    write (the next pass, at most a second away, reads any status someone else wrote)."""
    if not any(((p or {}).get("spec") or {}).get("nodeName") == node for p in (before, after)):
        return False
    if before is None or after is None:
        return True
    return any(before.get(k) != after.get(k) for k in set(before) | set(after) if k != "status")


def sandbox_spec_of(pod: Obj) -> SandboxSpec:
    """The pod's sandbox: its host ports, and the hostname, subdomain and dnsPolicy its
    /etc/hosts and /etc/resolv.conf are written from (a StatefulSet pod's hosts file names
    it ``web-0.nginx.default.svc.cluster.local`` too, as the kubelet writes it)."""
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    ports = []  # type: List[Dict[str, object]]
    for c in spec.get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("hostPort"):
                ports.append({"hostPort": p["hostPort"], "containerPort": p.get("containerPort"), "protocol": str(p.get("protocol") or "TCP").lower()})
    return SandboxSpec(
        str(meta.get("uid", "")), meta.get("namespace") or "default", meta.get("name", ""),
        str(spec.get("hostname") or meta.get("name", "")), ports,
        subdomain=str(spec.get("subdomain") or ""), dns_policy=str(spec.get("dnsPolicy") or "ClusterFirst"),
    )


class RuntimeManager(object):
    def __init__(
        self,
        client: EtcdClient,
        driver: Driver,
        node_name: str,
        state_dir: str,
        pod_log_dir: str,
        host_ip: Callable[[], str],
        clock: Callable[[], float] = time.time,
        interval: float = 1.0,
        mount_runner: Optional[volumes.Runner] = None,
        ca_file: str = "",
    ) -> None:
        self.client = client
        self.driver = driver
        self.node = node_name
        self.state_dir = state_dir
        self.pod_log_dir = pod_log_dir
        self.host_ip = host_ip
        self.clock = clock
        self.interval = interval
        self.mount_runner = mount_runner
        self.ca_file = ca_file  # the cluster CA, given to pods as serviceaccount/ca.crt
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.RLock()
        self.pods = Informer(client, POD_PREFIX, self.wake.set, relevant=self.bound_here)
        self.configmaps = Informer(client, CONFIGMAP_PREFIX, self.wake.set)
        self.secrets = Informer(client, SECRET_PREFIX, self.wake.set)
        self.claims = Informer(client, CLAIM_PREFIX, self.wake.set)
        self.volumes = Informer(client, VOLUME_PREFIX, self.wake.set)
        # the leader's service map (not the Services): read when a container starts, for
        # its Service variables; a change starts nothing, so it wakes no pass
        self.services = Informer(client, servicemap.PREFIX, lambda: None)
        self.events = EventRecorder(client, node_name, clock)
        self.workers = {}  # type: Dict[str, PodWorker]
        self.images = {}  # type: Dict[str, ImageInfo]
        self.pull_locks = {}  # type: Dict[str, threading.Lock]
        self.pull_errors = {}  # type: Dict[str, Dict[str, str]]
        self.pull_backoff = {}  # type: Dict[str, Dict[str, backoff.Backoff]]
        self.crash_backoff = {}  # type: Dict[str, Dict[str, backoff.Backoff]]
        self.config_errors = {}  # type: Dict[str, Dict[str, str]]
        self.waiting_seen = {}  # type: Dict[str, Dict[str, str]]
        self.probe_states = {}  # type: Dict[str, Dict[str, probes.ProbeState]]  # container id -> kind -> state
        self.probing = set()  # type: Set[Tuple[str, str]]
        self.probe_owner = {}  # type: Dict[str, str]  # container id -> pod uid
        self.usage = {}  # type: Dict[str, Obj]
        self.usage_raw = {}  # type: Dict[str, Tuple[float, Dict[str, int]]]  # uid -> (when, container -> cpu ns)
        self.spec_hashes = SpecHashes(state_dir)
        self.hook_records = hookrecords.HookRecords(state_dir)
        self.in_post_start = set()  # type: Set[str]  # container ids whose postStart hook runs now (not probed)
        self.pod_names = samename.PodNames(state_dir)
        self.held = {}  # type: Dict[str, str]  # pod uid -> the namesake's uid it waits for (logged once)
        self.pool = ThreadPoolExecutor(max_workers=8)
        self.limits_reported = False
        self.threads = []  # type: List[threading.Thread]

    # -- the loop ----------------------------------------------------------------------

    def start(self) -> None:
        """Informers in their threads, then the loop in its own (returns at once)."""
        for informer in self.informers():
            t = threading.Thread(target=informer.run, args=(self.stop,), name="watch" + informer.prefix)
            t.daemon = True
            t.start()
            self.threads.append(t)
        loop = threading.Thread(target=self.run, name="runtime")
        loop.daemon = True
        loop.start()
        self.threads.append(loop)

    def bound_here(self, before: Optional[Obj], after: Optional[Obj]) -> bool:
        return needs_pass(self.node, before, after)

    def informers(self) -> List[Informer]:
        return [self.pods, self.configmaps, self.secrets, self.claims, self.volumes, self.services]

    def run(self) -> None:
        while not self.stop.is_set():
            self.wake.clear()
            try:
                self.tick()
            except Exception:  # the loop must survive anything a driver or etcd throws
                LOG.exception("runtime tick")
            self.stop.wait(MIN_GAP)  # a burst of watch events costs one list, not one each
            self.wake.wait(self.interval)

    def request_stop(self) -> None:
        self.stop.set()
        self.wake.set()
        for w in list(self.workers.values()):
            w.wake.set()
        self.pool.shutdown(wait=False)

    def mine(self) -> Dict[str, Tuple[str, int, Obj]]:
        """Pods bound to this node, by uid: (key, mod_revision, object)."""
        out = {}  # type: Dict[str, Tuple[str, int, Obj]]
        for key, (rev, pod) in self.pods.snapshot().items():
            if (pod.get("spec") or {}).get("nodeName") != self.node:
                continue
            uid = (pod.get("metadata") or {}).get("uid")
            if uid:
                out[str(uid)] = (key, rev, pod)
        return out

    def sync_once(self) -> None:
        """Relist etcd and converge every pod in this thread, probes included (tests, debugging)."""
        for informer in self.informers():
            informer.relist()
        self.tick(inline=True)

    def tick(self, inline: bool = False) -> None:
        """List the driver, hand every pod (and every orphan) its slice, run due probes."""
        if not self.pods.synced:
            return
        self.report_limits_once()
        taken_at = time.monotonic()
        listed_sandboxes, listed_containers = self.driver.list_all()
        sandboxes = {s.pod_uid: s for s in listed_sandboxes}
        containers = {}  # type: Dict[str, List[ContainerInfo]]
        for c in listed_containers:
            containers.setdefault(c.pod_uid, []).append(c)
        pods = self.mine()
        held = self.held_back(pods, sandboxes, containers)
        now = self.clock()
        for uid, (key, rev, pod) in pods.items():
            if uid in held:
                continue  # its namesake's containers are being removed: it acts once they are gone
            mine = containers.get(uid, [])
            last = self.usage_raw.get(uid)
            if (last is None or now - last[0] >= USAGE_PERIOD) and any(c.state == "running" for c in mine):
                self.sample_usage(uid, now)
            self.run_probes(uid, pod, sandboxes.get(uid), mine, now, inline)
            snap = Snapshot(key, rev, pod, sandboxes.get(uid), mine, taken_at)
            if inline:
                self.sync_pod(uid, snap)
            else:
                self.worker(uid).offer(snap)
        for uid in set(sandboxes) | set(containers):
            if uid not in pods:
                snap = Snapshot("", 0, None, sandboxes.get(uid), containers.get(uid, []), taken_at)
                if inline:
                    self.sync_pod(uid, snap)
                else:
                    self.worker(uid).offer(snap)
        for uid in list(self.workers):
            if uid not in pods and uid not in sandboxes and uid not in containers:
                self.forget(uid)
        self.reclaim_volumes(pods)

    # -- one name, one pod -------------------------------------------------------------------

    def held_back(self, pods: Dict[str, Tuple[str, int, Obj]], sandboxes: Dict[str, SandboxInfo],
                  containers: Dict[str, List[ContainerInfo]]) -> Dict[str, str]:
        """Pods bound here that wait for a namesake's containers to go (samename.waiting)."""
        bound = {uid: samename.full_name(pod) for uid, (_key, _rev, pod) in pods.items()}
        leftovers = {}  # type: Dict[str, str]
        for uid in set(sandboxes) | set(containers):
            if uid not in pods and (uid in sandboxes or any(c.state == "running" for c in containers.get(uid, []))):
                leftovers[uid] = self.pod_names.of(uid)
        held = samename.waiting(bound, leftovers)
        with self.lock:
            for uid, other in held.items():
                if self.held.get(uid) != other:
                    LOG.info("pod %s (%s) waits: the containers of its namesake %s are still on %s",
                             bound[uid], uid, other, self.node)
            self.held = held
        return held

    # -- local persistent volumes ------------------------------------------------------------

    def claim_paths(self, pod: Obj) -> volumes.ClaimPaths:
        """The directories of the claims ``pod`` mounts (or why a claim has none yet)."""
        if not any("persistentVolumeClaim" in v for v in (pod.get("spec") or {}).get("volumes") or []):
            return {}
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        head = CLAIM_PREFIX + ns + "/"
        claims = {k[len(head):]: obj for k, (_rev, obj) in self.claims.snapshot().items() if k.startswith(head)}
        pvs = {k[len(VOLUME_PREFIX):]: obj for k, (_rev, obj) in self.volumes.snapshot().items()}
        return volumes.claim_paths(pod, claims, pvs, self.node)

    def reclaim_volumes(self, pods: Dict[str, Tuple[str, int, Obj]]) -> None:
        """Released local volumes of this node with reclaimPolicy Delete: directory, then
        object (level-triggered: a failure is tried again on the next pass)."""
        if not self.volumes.synced:
            return
        in_use = set()
        for _key, _rev, pod in pods.values():
            ns = (pod.get("metadata") or {}).get("namespace") or "default"
            for v in (pod.get("spec") or {}).get("volumes") or []:
                if volumes.claim_of(v):
                    in_use.add("%s/%s" % (ns, volumes.claim_of(v)))
        for r in localvolumes.to_reclaim(self.volumes.snapshot(), self.node, in_use):
            try:
                localvolumes.remove_dir(r.path)
                self.client.txn([key_unchanged(r.key, r.mod_revision)], [op_delete(r.key)])
                LOG.info("volume %s reclaimed: %s removed", r.key, r.path)
            except (OSError, EtcdError) as exc:
                LOG.warning("reclaiming %s (%s): %s", r.key, r.path, exc)

    def worker(self, uid: str) -> PodWorker:
        with self.lock:
            w = self.workers.get(uid)
            if w is None or w.finished:
                w = PodWorker(uid, self.sync_pod, self.stop, self.wake)
                self.workers[uid] = w
            return w

    def forget(self, uid: str) -> None:
        with self.lock:
            w = self.workers.pop(uid, None)
            if w is not None:
                w.finished = True
                w.wake.set()
            for table in (self.pull_errors, self.pull_backoff, self.crash_backoff, self.config_errors, self.waiting_seen, self.usage):
                table.pop(uid, None)
            self.pod_names.forget(uid)
            self.spec_hashes.forget(uid)
            self.hook_records.forget(uid)
            self.usage_raw.pop(uid, None)
            for cid in [k for k, owner in self.probe_owner.items() if owner == uid]:
                self.probe_states.pop(cid, None)
                self.probe_owner.pop(cid, None)

    # -- one pod -----------------------------------------------------------------------

    def observed(self, uid: str, pod: Obj, sandbox: Optional[SandboxInfo], containers: List[ContainerInfo]) -> lifecycle.Observed:
        with self.lock:
            self.crash_backoff[uid] = lifecycle.update_crash_backoff(pod, containers, self.crash_backoff.get(uid, {}))
            spec_by_name = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
            verdicts = {}  # type: Dict[str, probes.Verdict]
            for c in containers:
                if c.state == "running" and c.name in spec_by_name:
                    verdicts[c.name] = probes.verdict(spec_by_name[c.name], self.probe_states.get(c.id, {}), True)
            return lifecycle.Observed(
                sandbox,
                containers,
                dict(self.images),
                dict(self.pull_errors.get(uid, {})),
                dict(self.pull_backoff.get(uid, {})),
                dict(self.crash_backoff[uid]),
                verdicts,
                dict(self.config_errors.get(uid, {})),
                "",
                self.spec_hashes.of(uid),
                self.hook_records.of(uid),
            )

    def sync_pod(self, uid: str, snap: Snapshot) -> bool:
        """Plan and act for one pod; True when something was done (the next list must be newer)."""
        if snap.pod is None:
            return self.remove_orphan(uid, snap)
        pod = snap.pod
        deleting = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
        if not deleting:  # a pod being deleted starts nothing; its record must not outlive it
            self.pod_names.remember(uid, pod)
        obs = self.observed(uid, pod, snap.sandbox, snap.containers)
        if not deleting and not lifecycle.outcome(pod, snap.containers):
            obs = obs._replace(volume_error=self.setup_volumes(pod, obs))
        now = self.clock()
        the_plan = lifecycle.plan(pod, obs, now)
        waiting = dict(the_plan.waiting)
        obs, deleted = self.perform(pod, snap, obs, the_plan.actions, waiting)
        if deleted:
            return True
        self.note_waiting(uid, pod, waiting)
        self.write_status(snap, obs, waiting)
        return bool(the_plan.actions)

    def setup_volumes(self, pod: Obj, obs: lifecycle.Observed) -> str:
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        cms, secrets = self.namespace_objects(ns)
        stamp = datetime.datetime.utcfromtimestamp(self.clock()).strftime("%Y_%m_%d_%H_%M_%S.%f")
        pod_ip = obs.sandbox.ip if obs.sandbox is not None else ""
        claims = self.claim_paths(pod)
        for volume in (pod.get("spec") or {}).get("volumes") or []:
            try:
                kw = {} if self.mount_runner is None else {"run": self.mount_runner}
                volumes.setup_volume(self.state_dir, pod, volume, cms, secrets, stamp, pod_ip, self.host_ip(), claims=claims, **kw)
            except (volumes.VolumeError, OSError) as exc:
                message = 'MountVolume.SetUp failed for volume "%s" : %s' % (volume.get("name", ""), exc)
                uid = (pod.get("metadata") or {}).get("uid", "")
                if self.waiting_seen.get(uid, {}).get("__volume__") != message:
                    self.waiting_seen.setdefault(uid, {})["__volume__"] = message
                    self.events.record(pod, "FailedMount", message, warning=True)
                return message
        if serviceaccount.wanted(pod):
            target = volumes.volume_dir(self.state_dir, str((pod.get("metadata") or {}).get("uid", "")), serviceaccount.VOLUME_NAME)
            ca = serviceaccount.read_ca(self.ca_file) if self.ca_file else None
            try:
                volumes.write_atomic(target, serviceaccount.files(pod, ca), stamp)
            except OSError as exc:
                return 'MountVolume.SetUp failed for volume "kube-api-access" : %s' % exc
        return ""

    def namespace_objects(self, ns: str) -> Tuple[Dict[str, Obj], Dict[str, Obj]]:
        def pick(informer: Informer, prefix: str) -> Dict[str, Obj]:
            out = {}  # type: Dict[str, Obj]
            head = prefix + ns + "/"
            for key, (_rev, obj) in informer.snapshot().items():
                if key.startswith(head):
                    out[key[len(head):]] = obj
            return out

        return pick(self.configmaps, CONFIGMAP_PREFIX), pick(self.secrets, SECRET_PREFIX)

    def service_variables(self, pod: Obj) -> List[Tuple[str, str]]:
        """The Service variables of the pod's containers, from the service map as it is now
        (a Service made later is not seen by a running container, as in Kubernetes). Until
        the map was read once a container cannot start: its variables would be missing."""
        if not self.services.synced:
            raise envmod.ConfigError("services have not yet been read at least once, cannot construct envvars")
        entries = [entry for _rev, entry in self.services.snapshot().values() if isinstance(entry.get("ports"), list)]
        return serviceenv.variables(pod, entries)

    def perform(self, pod: Obj, snap: Snapshot, obs: lifecycle.Observed, actions: List[lifecycle.Action], waiting: Dict[str, Tuple[str, str]]) -> Tuple[lifecycle.Observed, bool]:
        """Do the plan's actions in order; returns the observation updated by what was done."""
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        failed = set()  # type: Set[str]
        containers = list(obs.containers)
        sandbox = obs.sandbox
        kills = [a for a in actions if a.kind == "kill"]
        if kills:
            self.kill_all(pod, kills, sandbox.ip if sandbox is not None else "")
            containers = self.killed(containers, {a.container_id for a in kills})
        for a in actions:
            if a.kind == "kill":
                continue
            if a.kind == "remove":
                self.driver.remove_container(a.container_id)
                containers = [c for c in containers if c.id != a.container_id]
            elif a.kind == "teardown":
                self.driver.remove_sandbox(uid)
                sandbox = None
            elif a.kind == "delete":
                self.delete_pod(snap, uid)
                return obs, True
            elif a.kind == "sandbox":
                try:
                    sandbox = self.driver.run_sandbox(self.sandbox_spec(pod))
                except (RuntimeError_, OSError, ValueError) as exc:
                    self.events.record(pod, "FailedCreatePodSandBox", "Failed to create pod sandbox: %s" % exc, warning=True)
                    break
            elif a.kind == "pull":
                if a.container in failed or not self.pull(pod, uid, a, waiting):
                    failed.add(a.container)
            elif a.kind == "start":
                if a.container in failed or sandbox is None:
                    continue
                info = self.start_container(pod, uid, a, sandbox, waiting)
                if info is not None:
                    containers.append(info)
                    digest = lifecycle.container_hash(self.container_spec_of(pod, a.container))
                    self.spec_hashes.remember(uid, info.id, digest, [c.id for c in containers])
                    if hooks.handler(self.container_spec_of(pod, a.container), hooks.POST_START) is not None:
                        self.hook_records.mark(uid, info.id, hooks.POST_START, hookrecords.PENDING, [c.id for c in containers])
                        containers = self.post_start(pod, snap, uid, info, sandbox, containers)
            elif a.kind == "poststart":
                found = [c for c in containers if c.id == a.container_id and c.state == "running"]
                if found and sandbox is not None:
                    containers = self.post_start(pod, snap, uid, found[0], sandbox, containers)
        obs = obs._replace(sandbox=sandbox, containers=containers, images=dict(self.images))
        return obs, False

    def killed(self, containers: List[ContainerInfo], gone: Set[str]) -> List[ContainerInfo]:
        """The containers as they are after ``gone`` were stopped (the next list confirms)."""
        now_s = ev.rfc3339(datetime.datetime.utcfromtimestamp(self.clock()))
        return [
            c._replace(state="exited", exit_code=137 if c.exit_code is None else c.exit_code, finished_at=c.finished_at or now_s)
            if c.id in gone and c.state == "running" else c
            for c in containers
        ]

    def post_start(self, pod: Obj, snap: Snapshot, uid: str, c: ContainerInfo, sandbox: SandboxInfo,
                   containers: List[ContainerInfo]) -> List[ContainerInfo]:
        """Run a started container's postStart hook (once: recorded before it begins); when
        it fails, FailedPostStartHook and the container is killed (it restarts per
        restartPolicy). The worker waits for it: the pod's status says the container runs
        only once the hook has returned, and it is not probed meanwhile."""
        container = self.container_spec_of(pod, c.name)
        handler = hooks.handler(container, hooks.POST_START)
        if handler is None or self.hook_records.state(uid, c.id, hooks.POST_START) not in ("", hookrecords.PENDING):
            return containers
        self.hook_records.mark(uid, c.id, hooks.POST_START, hookrecords.BEGUN, [x.id for x in containers])
        with self.lock:
            self.in_post_start.add(c.id)
        try:
            outcome = hooks.run(handler, container, sandbox.ip, lambda argv: self.driver.exec_argv(c.id, argv, False, False),
                                None, cancelled=lambda: self.deleting(snap.key, uid))
        finally:
            with self.lock:
                self.in_post_start.discard(c.id)
        self.hook_records.mark(uid, c.id, hooks.POST_START, hookrecords.DONE, [x.id for x in containers])
        if outcome.ok or self.deleting(snap.key, uid):
            return containers  # a hook cut short by the pod's deletion: the deletion stops the container
        field = "spec.containers{%s}" % c.name
        self.events.record(pod, "FailedPostStartHook", hooks.failure_message(handler, c.name, pod, outcome), warning=True, field_path=field)
        kill = lifecycle.Action("kill", c.name, attempt=c.attempt, container_id=c.id, grace=lifecycle.grace_seconds(pod), reason="FailedPostStartHook")
        self.kill_all(pod, [kill], sandbox.ip)
        return self.killed(containers, {c.id})

    def deleting(self, key: str, uid: str) -> bool:
        """Whether the pod (this uid) is being deleted or is gone: a postStart hook stops."""
        pod = self.pods.get(key)
        meta = (pod or {}).get("metadata") or {}
        return pod is None or meta.get("uid") != uid or bool(meta.get("deletionTimestamp")) or self.stop.is_set()

    def pre_stop(self, pod: Obj, a: lifecycle.Action, pod_ip: str) -> float:
        """Run the container's preStop hook within the kill's grace (once per container);
        the grace the stop signal then gets (hooks.stop_grace)."""
        container = self.container_spec_of(pod, a.container)
        handler = hooks.handler(container, hooks.PRE_STOP)
        uid = str((pod.get("metadata") or {}).get("uid", ""))
        if handler is None or not hooks.runs_pre_stop(container, a.grace) or self.hook_records.state(uid, a.container_id, hooks.PRE_STOP):
            return a.grace
        self.hook_records.mark(uid, a.container_id, hooks.PRE_STOP, hookrecords.BEGUN, self.hook_records.of(uid).keys())
        outcome = hooks.run(handler, container, pod_ip, lambda argv: self.driver.exec_argv(a.container_id, argv, False, False), a.grace)
        if not outcome.ok and outcome.took < a.grace:  # one that ran out of time is cut short, not failed
            self.events.record(pod, "FailedPreStopHook", hooks.failure_message(handler, a.container, pod, outcome), warning=True,
                               field_path="spec.containers{%s}" % a.container)
        elif not outcome.ok:
            LOG.info("preStop hook of %s (%s) did not complete within the grace period of %gs", a.container, a.container_id, a.grace)
        return hooks.stop_grace(a.grace, outcome.took)

    def kill_all(self, pod: Obj, kills: List[lifecycle.Action], pod_ip: str = "") -> None:
        """Stop containers in parallel (a pod's grace is one grace, not one per container),
        each after its preStop hook, within that grace."""
        def one(a: lifecycle.Action) -> None:
            field = "spec.containers{%s}" % a.container
            if a.reason in ("Liveness", "Startup"):
                msg = "Container %s failed %s probe, will be restarted" % (a.container, a.reason.lower())
            elif a.reason == "SpecChanged":
                msg = "Container %s definition changed, will be restarted" % a.container
            elif a.reason == "FailedPostStartHook":
                msg = "FailedPostStartHook"
            else:
                msg = "Stopping container %s" % a.container
            self.events.record(pod, "Killing", msg, field_path=field)
            try:
                grace = self.pre_stop(pod, a, pod_ip)
            except Exception as exc:  # a hook runner's bug must not keep the container running
                LOG.error("preStop hook of %s: %s", a.container_id, exc)
                grace = a.grace
            try:
                self.driver.stop_container(a.container_id, grace)
            except (RuntimeError_, OSError) as exc:
                LOG.error("stopping %s: %s", a.container_id, exc)

        threads = [threading.Thread(target=one, args=(a,)) for a in kills]
        for t in threads:
            t.daemon = True
            t.start()
        for t in threads:
            t.join()

    def pull(self, pod: Obj, uid: str, a: lifecycle.Action, waiting: Dict[str, Tuple[str, str]]) -> bool:
        spec = self.container_spec_of(pod, a.container)
        policy = str(spec.get("imagePullPolicy") or ("Always" if a.image.endswith(":latest") or ":" not in a.image.rsplit("/", 1)[-1] else "IfNotPresent"))
        field = "spec.%s{%s}" % ("initContainers" if a.init else "containers", a.container)
        with self.lock:
            ref_lock = self.pull_locks.setdefault(a.image, threading.Lock())
        with ref_lock:  # pods wanting the same image wait for one pull (and one Pulling event)
            return self._pull_locked(pod, uid, a, policy, field, waiting)

    def _pull_locked(self, pod: Obj, uid: str, a: lifecycle.Action, policy: str, field: str, waiting: Dict[str, Tuple[str, str]]) -> bool:
        known = a.image in self.images
        started = time.monotonic()
        if not known or policy == "Always":
            self.events.record(pod, "Pulling", 'Pulling image "%s"' % a.image, field_path=field)
        try:
            info = self.driver.ensure_image(a.image, policy)
        except PullError as exc:
            with self.lock:
                self.pull_errors.setdefault(uid, {})[a.image] = exc.message
                table = self.pull_backoff.setdefault(uid, {})
                table[a.image] = backoff.record_failure(table.get(a.image, backoff.Backoff()), self.clock())
            self.events.record(pod, "Failed", 'Failed to pull image "%s": %s' % (a.image, exc.message), warning=True, field_path=field)
            self.events.record(pod, "Failed", "Error: %s" % exc.reason, warning=True, field_path=field)
            waiting[a.container] = (exc.reason, exc.message)
            return False
        except (RuntimeError_, OSError) as exc:
            waiting[a.container] = ("ErrImagePull", str(exc))
            return False
        with self.lock:
            self.images[a.image] = info
            self.pull_errors.get(uid, {}).pop(a.image, None)
            self.pull_backoff.get(uid, {}).pop(a.image, None)
        took = time.monotonic() - started
        if not known or policy == "Always":
            self.events.record(pod, "Pulled", 'Successfully pulled image "%s" in %.3fs' % (a.image, took), field_path=field)
        else:
            self.events.record(pod, "Pulled", 'Container image "%s" already present on machine' % a.image, field_path=field)
        return True

    def container_spec_of(self, pod: Obj, name: str) -> Obj:
        spec = pod.get("spec") or {}
        for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
            if c.get("name") == name:
                return dict(c)
        return {}

    def sandbox_spec(self, pod: Obj) -> SandboxSpec:
        return sandbox_spec_of(pod)

    def start_container(self, pod: Obj, uid: str, a: lifecycle.Action, sandbox: SandboxInfo, waiting: Dict[str, Tuple[str, str]]) -> Optional[ContainerInfo]:
        meta = pod.get("metadata") or {}
        container = self.container_spec_of(pod, a.container)
        image = self.images.get(a.image)
        field = "spec.%s{%s}" % ("initContainers" if a.init else "containers", a.container)
        if image is None:
            return None
        ns = meta.get("namespace") or "default"
        cms, secrets = self.namespace_objects(ns)
        try:
            resolved = envmod.resolve(pod, container, image.entrypoint, image.cmd, image.working_dir, cms, secrets, sandbox.ip, self.host_ip(),
                                      self.service_variables(pod))
            mounts = volumes.container_mounts(self.state_dir, pod, container, self.claim_paths(pod))
            sa_mount = serviceaccount.container_mount(self.state_dir, pod, container)
            if sa_mount is not None:
                mounts.append(sa_mount)
        except (envmod.ConfigError, volumes.VolumeError) as exc:
            message = str(exc)
            with self.lock:
                first = self.config_errors.get(uid, {}).get(a.container) != message
                self.config_errors.setdefault(uid, {})[a.container] = message
            waiting[a.container] = ("CreateContainerConfigError", message)
            if first:
                self.events.record(pod, "Failed", "Error: %s" % message, warning=True, field_path=field)
            return None
        with self.lock:
            self.config_errors.get(uid, {}).pop(a.container, None)
        waiting.pop(a.container, None)
        log_path = os.path.join(self.pod_log_dir, "%s_%s_%s" % (ns, meta.get("name", ""), uid), a.container, "%d.log" % a.attempt)
        spec = ContainerSpec(
            uid, ns, str(meta.get("name", "")), a.container, a.attempt, image, resolved.argv,
            list(image.env) + ["%s=%s" % kv for kv in resolved.env], resolved.working_dir,
            resolved.user, resolved.group, mounts, log_path,
            str((pod.get("spec") or {}).get("hostname") or meta.get("name", "")),
            *limits_of(container),
        )
        try:
            info = self.driver.start_container(sandbox, spec)
        except (RuntimeError_, OSError, ValueError) as exc:
            waiting[a.container] = ("RunContainerError", str(exc))
            self.events.record(pod, "Failed", "Error: %s" % exc, warning=True, field_path=field)
            return None
        self.events.record(pod, "Created", "Created container %s" % a.container, field_path=field)
        self.events.record(pod, "Started", "Started container %s" % a.container, field_path=field)
        return info

    def note_waiting(self, uid: str, pod: Obj, waiting: Dict[str, Tuple[str, str]]) -> None:
        """A BackOff event when a container enters CrashLoopBackOff or ImagePullBackOff."""
        seen = self.waiting_seen.setdefault(uid, {})
        for name, (reason, message) in waiting.items():
            if reason in ("CrashLoopBackOff", "ImagePullBackOff") and seen.get(name) != message:
                text = "Back-off restarting failed container %s in pod %s" % (name, (pod.get("metadata") or {}).get("name", "")) if reason == "CrashLoopBackOff" else message.split(":", 1)[0]
                self.events.record(pod, "BackOff", text, warning=True, field_path="spec.containers{%s}" % name)
            seen[name] = message if reason in ("CrashLoopBackOff", "ImagePullBackOff") else ""

    # -- status, deletion, orphans --------------------------------------------------------

    def write_status(self, snap: Snapshot, obs: lifecycle.Observed, waiting: Dict[str, Tuple[str, str]]) -> None:
        """Write the status if it changed; on a lost race re-read the pod and try again."""
        key, rev, pod = snap.key, snap.mod_revision, snap.pod
        uid = str(((pod or {}).get("metadata") or {}).get("uid", ""))
        for _ in range(5):
            if pod is None:
                return
            now = datetime.datetime.utcfromtimestamp(self.clock())
            new = statusmod.compute(pod, obs, waiting, self.host_ip(), now, self.driver.name)
            usage = self.usage.get(uid) or (pod.get("status") or {}).get("usage")
            if usage:
                new["usage"] = usage
            if not statusmod.changed(pod.get("status"), new):
                return
            obj = dict(pod)
            obj["status"] = new
            ok, _ = self.client.txn([key_unchanged(key, rev)], [op_put(key, encode(obj))])
            if ok:
                return
            kv = self.client.get(key)
            if kv is None:
                return
            try:
                fresh = json.loads(kv.value)
            except ValueError:
                return
            meta = fresh.get("metadata") or {}
            if meta.get("uid") != uid or (fresh.get("spec") or {}).get("nodeName") != self.node:
                return
            pod, rev = fresh, kv.mod_revision

    def delete_pod(self, snap: Snapshot, uid: str) -> None:
        """The last step of a graceful deletion: the key goes (if it is still this pod)."""
        key, rev = snap.key, snap.mod_revision
        self.spec_hashes.drop(uid)
        self.hook_records.drop(uid)
        self.pod_names.drop(uid)
        volumes.teardown(self.state_dir, uid, **({} if self.mount_runner is None else {"run": self.mount_runner}))
        for _ in range(5):
            ok, _ = self.client.txn([key_unchanged(key, rev)], [op_delete(key)])
            if ok:
                LOG.info("pod %s deleted", key)
                break
            kv = self.client.get(key)
            if kv is None:
                break
            try:
                fresh = json.loads(kv.value)
            except ValueError:
                break
            if (fresh.get("metadata") or {}).get("uid") != uid:
                break
            rev = kv.mod_revision
        self.forget_later(uid)

    def forget_later(self, uid: str) -> None:
        with self.lock:
            for table in (self.pull_errors, self.pull_backoff, self.crash_backoff, self.config_errors, self.waiting_seen):
                table.pop(uid, None)

    def remove_orphan(self, uid: str, snap: Snapshot) -> bool:
        """Containers and sandbox of a pod gone from etcd or bound elsewhere: stop and remove."""
        if not snap.containers and snap.sandbox is None:
            return False
        LOG.info("removing containers of pod %s (not bound to %s)", uid, self.node)
        for c in snap.containers:
            if c.state == "running":
                try:
                    self.driver.stop_container(c.id, ORPHAN_GRACE)
                except (RuntimeError_, OSError) as exc:
                    LOG.error("stopping %s: %s", c.id, exc)
            self.driver.remove_container(c.id)
        if snap.sandbox is not None:
            self.driver.remove_sandbox(uid)
        self.spec_hashes.drop(uid)
        self.hook_records.drop(uid)
        self.pod_names.drop(uid)
        volumes.teardown(self.state_dir, uid, **({} if self.mount_runner is None else {"run": self.mount_runner}))
        return True

    # -- probes and usage ------------------------------------------------------------------

    def run_probes(self, uid: str, pod: Obj, sandbox: Optional[SandboxInfo], containers: List[ContainerInfo], now: float, inline: bool = False) -> None:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            return
        specs = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
        live_ids = set()
        for c in containers:
            if c.state != "running" or c.name not in specs:
                continue
            live_ids.add(c.id)
            if c.id in self.in_post_start:
                continue  # not Running until its postStart hook returns: not probed yet
            self.probe_owner[c.id] = uid
            states = self.probe_states.setdefault(c.id, {})
            for kind in probes.due_probes(specs[c.name], states, lifecycle.epoch(c.started_at), now):
                if (c.id, kind) in self.probing:
                    continue
                self.probing.add((c.id, kind))
                if inline:
                    self.probe_one(uid, pod, sandbox.ip if sandbox else "", c, specs[c.name], kind)
                    continue
                try:
                    self.pool.submit(self.probe_one, uid, pod, sandbox.ip if sandbox else "", c, specs[c.name], kind)
                except RuntimeError:
                    self.probing.discard((c.id, kind))
        with self.lock:
            for cid in [k for k, owner in self.probe_owner.items() if owner == uid and k not in live_ids]:
                self.probe_states.pop(cid, None)
                self.probe_owner.pop(cid, None)

    def probe_one(self, uid: str, pod: Obj, pod_ip: str, c: ContainerInfo, container: Obj, kind: str) -> None:
        probe = container.get(probes.FIELDS[kind]) or {}
        try:
            argv = None
            if "exec" in probe:
                argv = self.driver.exec_argv(c.id, [str(x) for x in (probe["exec"] or {}).get("command") or []], False, False)
            ok, message = probes.run_probe(probe, container, pod_ip, argv)
        except Exception as exc:  # a probe runner bug counts as a failed probe, nothing more
            ok, message = False, str(exc)
        now = self.clock()
        with self.lock:
            self.probing.discard((c.id, kind))
            states = self.probe_states.setdefault(c.id, {})
            before = probes.verdict(container, states, True)
            states[kind] = probes.record(probe, states.get(kind, probes.initial(kind)), ok, now, message)
            after = probes.verdict(container, states, True)
        if not ok:
            self.events.record(pod, "Unhealthy", "%s probe failed: %s" % (kind.capitalize(), message), warning=True, field_path="spec.containers{%s}" % c.name)
        if before != after:
            self.wake.set()

    def sample_usage(self, uid: str, now: float) -> None:
        """Measure the pod's containers; from the second sample on, status.usage says their
        CPU rate over the last window (millicores) and their memory now (kubeform.api.usage).

        Memory is the resident set of the containers' processes: the working set where
        containers run without a memory cgroup (lab hosts), as metrics-server's would be
        read from one. The first sample only starts the window: a pod has no CPU figure
        (and the HPA no metric for it) until USAGE_PERIOD later.
        """
        try:
            raw = self.driver.container_usage(uid)
        except (NotImplementedError, OSError, RuntimeError_) as exc:
            LOG.debug("usage %s: %s", uid, exc)
            return
        prev = self.usage_raw.get(uid)
        self.usage_raw[uid] = (now, {name: int(v.get("cpu_ns", 0)) for name, v in raw.items()})
        window = now - prev[0] if prev is not None else 0.0
        containers = []  # type: List[Obj]
        total_cpu = None  # type: Optional[int]
        total_mem = 0
        for name in sorted(raw):
            cpu_ns = int(raw[name].get("cpu_ns", 0))
            mem = int(raw[name].get("memory_bytes", 0))
            cpu = None  # type: Optional[int]
            if prev is not None and window > 0 and name in prev[1]:
                cpu = max(0, int((cpu_ns - prev[1][name]) / 1e6 / window))
                total_cpu = (total_cpu or 0) + cpu
            total_mem += mem
            one = usagemod.render(cpu, mem)
            one["name"] = name
            containers.append(one)
        record = usagemod.render(total_cpu, total_mem)
        record.update({
            "containers": containers,
            "cpuNanoseconds": sum(int(v.get("cpu_ns", 0)) for v in raw.values()),
            "memoryBytes": total_mem,
            "timestamp": ev.rfc3339(datetime.datetime.utcfromtimestamp(now)),
            "window": "%ds" % round(window),
        })
        self.usage[uid] = record

    def report_limits_once(self) -> None:
        """One Node event when this runtime cannot enforce CPU/memory limits (no cgroups)."""
        if self.limits_reported:
            return
        self.limits_reported = True
        if getattr(self.driver, "enforces_limits", False):
            return
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node, "namespace": "default", "uid": self.node}}
        try:
            kvs, _ = self.client.range(ev.event_key("default", self.node + "."), prefix=True)
        except EtcdError:
            kvs = []
        if any('"ResourceLimitsNotEnforced"' in kv.value for kv in kvs):
            return  # said already (by an earlier run of this agent, within the events' TTL)
        self.events.record(
            node,
            "ResourceLimitsNotEnforced",
            "cgroups are not available to the %s runtime on this host: container CPU and memory limits are not enforced (requests still count for scheduling)" % self.driver.name,
            warning=True,
        )
