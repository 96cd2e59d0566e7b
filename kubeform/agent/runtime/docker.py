"""The docker driver: pods through the docker CLI, laid out as the kubelet's dockershim did.

Why the CLI and dockershim's layout: EL 7 hosts ship docker (extras) and nothing newer, and
an operator who knows Kubernetes on docker finds what they expect in ``docker ps``:

- a pod's sandbox is a pause container ``k8s_POD_<pod>_<ns>_<uid>_0`` started with
  ``--network none`` and ``--ipc shareable``; CNI wires its netns (/proc/<pid>/ns/net)
  through sandbox.PodNetwork, the same code the crun driver uses;
- each app container is ``k8s_<container>_<pod>_<ns>_<uid>_<attempt>`` with ``--network
  container:<pause>`` (which also brings the pause's hostname: docker shares UTS with the
  network container and refuses ``--uts container:``) and ``--ipc container:<pause>``;
  /etc/hosts, /etc/resolv.conf and /etc/hostname are the pod's files from sandbox.py,
  bind-mounted as the kubelet mounts its etc-hosts;
- labels carry the pod (io.kubernetes.pod.uid/name/namespace, io.kubernetes.container.name)
  and kubeform's own (io.kubeform.attempt, io.kubeform.log-path), so ``list_*`` reads the
  world back from ``docker ps``/``docker inspect`` after any restart;
- output: docker keeps its json-file log and dockerlogs.py (started detached per container)
  writes the CRI file at ContainerSpec.log_path from ``docker logs -f --timestamps``.

The argv builders and the inspect parsers are pure (tests/unit/agent/runtime/test_docker.py);
only ``DockerDriver`` runs anything.
"""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import imageref, stopsignal
from .cleanup import remove_all_main, remove_everything
from .driver import (
    ContainerInfo,
    ContainerSpec,
    Driver,
    ImageInfo,
    PullError,
    RuntimeError_,
    SandboxInfo,
    SandboxSpec,
)

PAUSE_IMAGE = "kubeform/pause:busybox"
PAUSE_SLEEP = "2147483647"
MANAGED = "io.kubeform.managed"
L_UID = "io.kubernetes.pod.uid"
L_NAME = "io.kubernetes.pod.name"
L_NS = "io.kubernetes.pod.namespace"
L_CONTAINER = "io.kubernetes.container.name"
L_TYPE = "io.kubernetes.docker.type"  # podsandbox | container (dockershim's label)
L_ATTEMPT = "io.kubeform.attempt"
L_LOG = "io.kubeform.log-path"

# Where busybox may be for the local pause image (Debian's busybox-static: /bin/busybox;
# EPEL's busybox on EL 7: /sbin/busybox).
BUSYBOX_PATHS = ["/bin/busybox", "/usr/bin/busybox", "/sbin/busybox", "/usr/sbin/busybox"]

Runner = Callable[[List[str], Optional[str]], Tuple[int, str, str]]


# --- pure: names, references, argv ------------------------------------------------------
def sandbox_name(spec: SandboxSpec) -> str:
    return "k8s_POD_%s_%s_%s_0" % (spec.name, spec.namespace, spec.pod_uid)


def container_name(spec: ContainerSpec) -> str:
    return "k8s_%s_%s_%s_%s_%d" % (spec.name, spec.pod_name, spec.pod_namespace, spec.pod_uid, spec.attempt)


def mirror_ref(ref: str, registry: str) -> str:
    """The same image in the cluster registry (``nginx:1.29`` -> ``reg:5000/library/nginx:1.29``),
    "" when there is no cluster registry or the reference already names it (imageref.sources)."""
    found = imageref.sources(imageref.normalize(ref), registry)
    return found[0][len("docker://") :] if len(found) > 1 else ""


def pause_argv(spec: SandboxSpec, dns: Dict[str, List[str]], shareable_ipc: bool = True) -> List[str]:
    """``docker run`` of the pod's pause container (detached, no network yet).

    shareable_ipc: docker 17.06+ makes a container's IPC private unless ``--ipc
    shareable``; older ones (CentOS 7's 1.13) share it always and know no such mode.

    dns: "servers", "searches", "options" for docker's own resolv.conf of the pause (the
    app containers mount the pod's resolv.conf anyway; this keeps ``docker exec`` into the
    pause sensible).
    """
    argv = [
        "run",
        "-d",
        "--name",
        sandbox_name(spec),
        "--hostname",
        spec.hostname,
        "--network",
        "none",
    ]
    if shareable_ipc:
        argv += ["--ipc", "shareable"]
    argv += ["--restart", "no", "--log-driver", "none"]
    for key, value in _labels(spec.pod_uid, spec.name, spec.namespace, "podsandbox"):
        argv += ["--label", "%s=%s" % (key, value)]
    for server in dns.get("servers", []):
        argv += ["--dns", server]
    for search in dns.get("searches", []):
        argv += ["--dns-search", search]
    for option in dns.get("options", []):
        argv += ["--dns-option", option]
    argv += ["--entrypoint", "/bin/busybox", PAUSE_IMAGE, "sleep", PAUSE_SLEEP]
    return argv


def create_argv(spec: ContainerSpec, sandbox_id: str, pod_files: Dict[str, str]) -> List[str]:
    """``docker create`` of one app container joining the sandbox's namespaces.

    The entrypoint is always given (argv[0]) so the image's own ENTRYPOINT never prefixes
    an already merged argv; env is complete (image env first, pod env after).
    """
    if not spec.argv:
        raise RuntimeError_("container %s has no command: neither the image nor the pod gives one" % spec.name)
    argv = [
        "create",
        "--name",
        container_name(spec),
        "--network",
        "container:" + sandbox_id,
        "--ipc",
        "container:" + sandbox_id,
        "--restart",
        "no",
        "--log-driver",
        "json-file",
    ]
    for key, value in _labels(spec.pod_uid, spec.pod_name, spec.pod_namespace, "container"):
        argv += ["--label", "%s=%s" % (key, value)]
    argv += [
        "--label",
        "%s=%s" % (L_CONTAINER, spec.name),
        "--label",
        "%s=%d" % (L_ATTEMPT, spec.attempt),
        "--label",
        "%s=%s" % (L_LOG, spec.log_path),
    ]
    if spec.image.stop_signal:  # docker would take it from the image too; said, not assumed
        argv += ["--stop-signal", stopsignal.canonical(spec.image.stop_signal)]
    if spec.memory_limit_bytes:
        argv += ["--memory", str(spec.memory_limit_bytes)]
    if spec.cpu_limit_millis:
        argv += ["--cpus", "%.3f" % (spec.cpu_limit_millis / 1000.0)]
    for kv in spec.env:
        argv += ["--env", kv]
    if spec.working_dir:
        argv += ["--workdir", spec.working_dir]
    user = user_arg(spec.user, spec.group, spec.image.user)
    if user:
        argv += ["--user", user]
    for ctr_path, host_path in sorted(pod_files.items()):
        if not any(m.container_path == ctr_path for m in spec.mounts):
            argv += ["--volume", "%s:%s" % (host_path, ctr_path)]
    for m in spec.mounts:
        argv += ["--volume", "%s:%s%s" % (m.host_path, m.container_path, ":ro" if m.read_only else "")]
    argv += ["--entrypoint", spec.argv[0], spec.image.ref] + list(spec.argv[1:])
    return argv


def user_arg(user: Optional[int], group: Optional[int], image_user: str) -> str:
    """``--user`` value: runAsUser[:runAsGroup]; a group alone keeps the image's user."""
    if user is not None:
        return "%d:%d" % (user, group) if group is not None else str(user)
    if group is not None:
        base = image_user.split(":", 1)[0] if image_user else "0"
        return "%s:%d" % (base, group)
    return ""


def version_at_least(version: str, wanted: Tuple[int, int]) -> bool:
    """Whether docker's server version (``20.10.24+dfsg1``, ``1.13.1``, ``17.06.2-ce``) is
    at least wanted; an unreadable version counts as new."""
    m = re.match(r"(\d+)\.(\d+)", version.strip())
    if not m:
        return True
    return (int(m.group(1)), int(m.group(2))) >= wanted


def exec_argv(docker: str, container_id: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
    out = [docker, "exec"]
    if stdin:
        out.append("-i")
    if tty:
        out.append("-t")
    return out + [container_id] + list(argv)


def _labels(uid: str, name: str, namespace: str, kind: str) -> List[Tuple[str, str]]:
    return [(MANAGED, "true"), (L_UID, uid), (L_NAME, name), (L_NS, namespace), (L_TYPE, kind)]


# --- pure: reading docker inspect --------------------------------------------------------
def rfc3339(ts: str) -> str:
    """docker's time (nanoseconds, or year 1 when unset) as Kubernetes writes it: seconds, Z."""
    if not ts or ts.startswith("0001-01-01"):
        return ""
    return ts[:19] + "Z" if len(ts) >= 19 else ts


def parse_container(raw: Dict[str, Any]) -> Optional[ContainerInfo]:
    """A ContainerInfo from one ``docker inspect`` object; None for one not ours."""
    labels = ((raw.get("Config") or {}).get("Labels")) or {}
    if labels.get(MANAGED) != "true" or labels.get(L_TYPE) != "container":
        return None
    st = raw.get("State") or {}
    status = st.get("Status", "")
    if status in ("running", "paused", "restarting"):
        state = "running"
    elif status == "created":
        state = "created"
    else:
        state = "exited"
    exit_code = None  # type: Optional[int]
    reason = ""
    if state == "exited":
        exit_code = int(st.get("ExitCode", 0) or 0)
        if st.get("OOMKilled"):
            reason = "OOMKilled"
        else:
            reason = "Completed" if exit_code == 0 else "Error"
    try:
        attempt = int(labels.get(L_ATTEMPT, "0"))
    except ValueError:
        attempt = 0
    return ContainerInfo(
        pod_uid=labels.get(L_UID, ""),
        name=labels.get(L_CONTAINER, ""),
        attempt=attempt,
        id=str(raw.get("Id", "")),
        state=state,
        exit_code=exit_code,
        started_at=rfc3339(st.get("StartedAt", "")),
        finished_at=rfc3339(st.get("FinishedAt", "")) if state == "exited" else "",
        pid=int(st.get("Pid", 0) or 0) if state == "running" else 0,
        reason=reason,
    )


def parse_sandbox(raw: Dict[str, Any], ip: str) -> Optional[SandboxInfo]:
    """A SandboxInfo from the pause container's inspect object (ip from the CNI cache)."""
    labels = ((raw.get("Config") or {}).get("Labels")) or {}
    if labels.get(MANAGED) != "true" or labels.get(L_TYPE) != "podsandbox":
        return None
    st = raw.get("State") or {}
    pid = int(st.get("Pid", 0) or 0)
    running = st.get("Status") == "running" and pid > 0
    return SandboxInfo(
        pod_uid=labels.get(L_UID, ""),
        id=str(raw.get("Id", "")),
        netns_path="/proc/%d/ns/net" % pid if running else "",
        ip=ip if running else "",
        ready=running and bool(ip),
    )


def parse_image(ref: str, raw: Dict[str, Any]) -> ImageInfo:
    """ImageInfo from ``docker image inspect`` (digest: the registry digest when known)."""
    cfg = raw.get("Config") or {}
    digest = str(raw.get("Id", ""))
    for rd in raw.get("RepoDigests") or []:
        if "@" in rd:
            digest = rd.split("@", 1)[1]
            break
    return ImageInfo(
        ref=ref,
        digest=digest,
        entrypoint=list(cfg.get("Entrypoint") or []),
        cmd=list(cfg.get("Cmd") or []),
        env=list(cfg.get("Env") or []),
        working_dir=str(cfg.get("WorkingDir") or ""),
        user=str(cfg.get("User") or ""),
        stop_signal=str(cfg.get("StopSignal") or ""),
    )


def pull_reason(stderr: str) -> str:
    """A docker command's failure as one line (the daemon's message, not the CLI's chatter)."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return "docker pull failed"
    prefix = "Error response from daemon: "
    daemon = [ln for ln in lines if ln.startswith(prefix)]
    line = daemon[-1] if daemon else lines[-1]  # `docker start` ends with a bare id line
    return line[len(prefix) :] if line.startswith(prefix) else line


# --- pure: usage from /proc ------------------------------------------------------------------
def pod_pids(ns_of: Dict[int, str], roots: List[int]) -> List[int]:
    """Every process in the pid namespaces of the containers' init processes (roots):
    their children and what ``docker exec`` started too (an exec'd process is a child of
    containerd's shim, not of the container's init, so a process tree would miss it).
    ns_of: pid -> its /proc/<pid>/ns/pid link, for every process."""
    wanted = set(ns_of[p] for p in roots if p in ns_of)
    return sorted(p for p, ns in ns_of.items() if ns in wanted)


def parse_stat(text: str) -> Tuple[int, int]:
    """(ppid, utime+stime+cutime+cstime in ticks) of a /proc/<pid>/stat line."""
    rest = text[text.rfind(")") + 2 :].split()
    # fields after the comm: state ppid ... utime(14) stime(15) cutime(16) cstime(17)
    ppid = int(rest[1])
    ticks = sum(int(rest[i]) for i in (11, 12, 13, 14))
    return ppid, ticks


# --- the driver -------------------------------------------------------------------------------
def _subprocess_runner(argv: List[str], stdin: Optional[str]) -> Tuple[int, str, str]:
    try:
        proc = subprocess.run(
            argv,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


class DockerDriver(Driver):
    """driver.Driver on the docker CLI (see the module docstring)."""

    name = "docker"

    def __init__(
        self,
        network: Any,  # sandbox.PodNetwork (Any: tests pass a fake)
        registry: str = "",
        docker: str = "docker",
        run: Runner = _subprocess_runner,
        proc: str = "/proc",
        container_marker: str = "/run/systemd/container",
    ) -> None:
        self.network = network
        self.registry = registry
        self.docker = docker
        self._run = run
        self.proc = proc
        self._version = None  # type: Optional[str]
        self._limits = None  # type: Optional[bool]
        self.container_marker = container_marker  # systemd writes it inside a container host

    @property
    def enforces_limits(self) -> bool:
        """docker enforces CPU and memory limits when it has the cgroup controllers: asked
        once (``docker info``). Never in a container host such as a lab machine (nspawn),
        whose cgroups are read-only: a limit there would make every start fail."""
        if self._limits is None:
            in_container = os.path.exists(self.container_marker)
            rc, out, _ = self._docker(["info", "--format", "{{.MemoryLimit}} {{.CPUShares}}"])
            self._limits = (not in_container) and rc == 0 and out.split()[:1] == ["true"]
        return self._limits

    def server_version(self) -> str:
        """docker's server version, asked once (argv differs before 17.06)."""
        if self._version is None:
            rc, out, _ = self._docker(["version", "--format", "{{.Server.Version}}"])
            self._version = out.strip() if rc == 0 else ""
        return self._version

    @classmethod
    def from_config(cls, cfg: Any) -> "DockerDriver":
        """The driver for the agent's config (agent/config.py AgentConfig)."""
        from .sandbox import PodNetwork

        network = PodNetwork(
            cfg.state_dir, cfg.cni_conf_dir, cfg.cni_bin_dirs, cfg.subnet_env, cfg.cluster_dns, cfg.cluster_domain
        )
        return cls(network, registry=cfg.registry)

    # --- running docker -----------------------------------------------------------------------
    def _docker(self, args: List[str], stdin: Optional[str] = None) -> Tuple[int, str, str]:
        return self._run([self.docker] + args, stdin)

    def _must(self, args: List[str], what: str) -> str:
        rc, out, err = self._docker(args)
        if rc != 0:
            raise RuntimeError_("%s: %s" % (what, pull_reason(err or out)))
        return out

    def _inspect(self, ids: List[str]) -> List[Dict[str, Any]]:
        if not ids:
            return []
        _rc, out, _ = self._docker(["inspect", "--type", "container"] + ids)
        try:
            value = json.loads(out or "[]")
        except ValueError:
            return []
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    def _ids(self, kind: str, extra: Optional[List[str]] = None) -> List[str]:
        args = ["ps", "-a", "-q", "--no-trunc", "--filter", "label=%s=true" % MANAGED]
        args += ["--filter", "label=%s=%s" % (L_TYPE, kind)]
        for f in extra or []:
            args += ["--filter", f]
        rc, out, err = self._docker(args)
        if rc != 0:
            raise RuntimeError_("docker ps: %s" % pull_reason(err))
        return out.split()

    # --- images -------------------------------------------------------------------------------
    def image_info(self, ref: str) -> Optional[ImageInfo]:
        rc, out, _ = self._docker(["image", "inspect", ref])
        if rc != 0:
            return None
        try:
            value = json.loads(out)
        except ValueError:
            return None
        return parse_image(ref, value[0]) if isinstance(value, list) and value else None

    def ensure_image(self, ref: str, pull_policy: str) -> ImageInfo:
        if pull_policy != "Always":
            have = self.image_info(ref)
            if have is not None:
                return have
            if pull_policy == "Never":
                raise PullError(
                    'Container image "%s" is not present with pull policy of Never' % ref, reason="ErrImageNeverPull"
                )
        try:
            mirror = mirror_ref(ref, self.registry)
        except imageref.RefError as exc:
            raise PullError(str(exc), reason="InvalidImageName") from None
        if mirror:
            rc, _, _ = self._docker(["pull", mirror])
            if rc == 0:
                rc, _, err = self._docker(["tag", mirror, ref])
                info = self.image_info(ref) if rc == 0 else None
                if info is not None:
                    return info
        rc, _, err = self._docker(["pull", ref])
        if rc != 0:
            where = " (not in the cluster registry %s either)" % self.registry if mirror else ""
            raise PullError('failed to pull image "%s": %s%s' % (ref, pull_reason(err), where))
        info = self.image_info(ref)
        if info is None:
            raise PullError('image "%s" pulled but docker cannot inspect it' % ref)
        return info

    def ensure_pause_image(self) -> None:
        """The pause image, built on this host (no registry, no internet needed).

        A one-layer image holding a static busybox (Debian: busybox-static; EL 7: EPEL's
        busybox, or push ``kubeform/pause:busybox`` into the cluster registry, which is
        tried next, see docs/runtime.md).
        """
        if self.image_info(PAUSE_IMAGE) is not None:
            return
        busybox = next((p for p in BUSYBOX_PATHS if os.path.isfile(p)), "")
        if busybox:
            root = tempfile.mkdtemp(prefix="kubeform-pause-")
            try:
                os.mkdir(os.path.join(root, "bin"))
                with open(busybox, "rb") as src, open(os.path.join(root, "bin", "busybox"), "wb") as dst:
                    dst.write(src.read())
                os.chmod(os.path.join(root, "bin", "busybox"), 0o755)
                os.symlink("busybox", os.path.join(root, "bin", "sh"))
                tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
                imp = subprocess.run(
                    [self.docker, "import", "-c", 'CMD ["/bin/busybox", "sleep", "%s"]' % PAUSE_SLEEP, "-", PAUSE_IMAGE],
                    stdin=tar.stdout,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    universal_newlines=True,
                )
                tar.wait()
                if imp.returncode == 0:
                    return
            finally:
                subprocess.run(["rm", "-rf", root])
        try:
            self.ensure_image(PAUSE_IMAGE, "IfNotPresent")
        except PullError as exc:
            raise RuntimeError_(
                "no pause image: install busybox (Debian busybox-static, EPEL busybox) or push %s "
                "into the cluster registry (%s)" % (PAUSE_IMAGE, exc.message)
            ) from None

    # --- sandboxes ----------------------------------------------------------------------------
    def _sandbox_raw(self, pod_uid: str) -> List[Dict[str, Any]]:
        return self._inspect(self._ids("podsandbox", ["label=%s=%s" % (L_UID, pod_uid)]))

    def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        raws = self._sandbox_raw(spec.pod_uid)
        running = [r for r in raws if (r.get("State") or {}).get("Status") == "running"]
        for r in raws:
            if r not in running:  # a dead pause (reboot, kill): its netns is gone; start afresh
                self._docker(["rm", "-f", str(r.get("Id"))])
        if running:
            raw = running[0]
        else:
            self.ensure_pause_image()
            self.network.save_spec(spec, {"runtime": "docker"})
            resolv = self._pod_dns(spec)
            shareable = version_at_least(self.server_version(), (17, 6))
            pause_id = self._must(pause_argv(spec, resolv, shareable), "pause container for %s/%s" % (spec.namespace, spec.name))
            raws = self._inspect([pause_id.strip()])
            if not raws:
                raise RuntimeError_("pause container for %s/%s vanished" % (spec.namespace, spec.name))
            raw = raws[0]
        pid = int((raw.get("State") or {}).get("Pid", 0) or 0)
        netns = "/proc/%d/ns/net" % pid
        try:
            ip = self.network.wire(spec, str(raw["Id"]), netns)
            self.network.write_files(spec, ip)
        except Exception as exc:
            raise RuntimeError_("sandbox for %s/%s: %s" % (spec.namespace, spec.name, exc)) from None
        return SandboxInfo(pod_uid=spec.pod_uid, id=str(raw["Id"]), netns_path=netns, ip=ip, ready=True)

    def _pod_dns(self, spec: SandboxSpec) -> Dict[str, List[str]]:
        """The pod's resolv.conf as docker --dns flags (the same text sandbox.py writes)."""
        try:
            from .podfiles import parse_resolv

            parsed = parse_resolv(self.network.resolv_text(spec))
        except Exception:
            return {}
        return {"servers": parsed.nameservers, "searches": parsed.search, "options": parsed.options}

    def list_sandboxes(self) -> List[SandboxInfo]:
        out = []
        for raw in self._inspect(self._ids("podsandbox")):
            labels = ((raw.get("Config") or {}).get("Labels")) or {}
            ip = self.network.cached_ip(labels.get(L_UID, ""))
            info = parse_sandbox(raw, ip)
            if info is not None:
                out.append(info)
        return out

    def remove_sandbox(self, pod_uid: str) -> None:
        raws = self._sandbox_raw(pod_uid)
        live = ["status=%s" % s for s in ("created", "running", "restarting", "paused")]
        for cid in self._ids("container", ["label=%s=%s" % (L_UID, pod_uid)] + live):
            self._docker(["rm", "-f", cid])  # exited ones stay: a finished pod's status and logs
        for raw in raws:
            st = raw.get("State") or {}
            pid = int(st.get("Pid", 0) or 0)
            netns = "/proc/%d/ns/net" % pid if pid else ""
            self.network.unwire(pod_uid, str(raw.get("Id")), netns)
            self._docker(["rm", "-f", str(raw.get("Id"))])
        if not raws:
            self.network.unwire(pod_uid, "", "")
        self.network.teardown(pod_uid, "")

    # --- containers ---------------------------------------------------------------------------
    def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerInfo:
        name = container_name(spec)
        found = self._inspect([name])  # by name: an agent restarted mid-start finds its container
        if found:
            cid = str(found[0].get("Id"))
            created = (found[0].get("State") or {}).get("Status") == "created"
        else:
            files = self.network.files(spec.pod_uid)
            files = {k: v for k, v in files.items() if os.path.exists(v)}
            if not self.enforces_limits:
                spec = spec._replace(cpu_limit_millis=0, memory_limit_bytes=0)
            cid = self._must(create_argv(spec, sandbox.id, files), "create %s" % spec.name).strip()
            created = True
        if created:
            os.makedirs(os.path.dirname(spec.log_path), exist_ok=True)
            self._must(["start", cid], "start %s" % spec.name)
            self._start_log_shim(cid, spec.log_path)
            found = self._inspect([cid])
        info = parse_container(found[0]) if found else None
        if info is None:
            raise RuntimeError_("container %s is not readable after start" % name)
        return info

    def _start_log_shim(self, container_id: str, log_path: str) -> None:
        """dockerlogs.py, detached (its own session, reparented to init: no zombie here)."""
        pkg_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        env = dict(os.environ)
        env["PYTHONPATH"] = pkg_root
        script = 'exec "$0" -m kubeform.agent.runtime.dockerlogs --docker "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &'
        subprocess.run(
            ["sh", "-c", script, sys.executable, self.docker, container_id, log_path],
            env=env,
            cwd="/",
            start_new_session=True,
        )

    def list_containers(self) -> List[ContainerInfo]:
        out = []
        for raw in self._inspect(self._ids("container")):
            info = parse_container(raw)
            if info is not None:
                out.append(info)
        return out

    def stop_container(self, container_id: str, grace_seconds: float) -> None:
        seconds = max(math.ceil(grace_seconds), 0)
        rc, _, err = self._docker(["stop", "-t", str(seconds), container_id])
        if rc != 0 and "No such container" not in err:
            raise RuntimeError_("stop %s: %s" % (container_id[:12], pull_reason(err)))

    def remove_container(self, container_id: str) -> None:
        rc, _, err = self._docker(["rm", "-f", container_id])
        if rc != 0 and "No such container" not in err:
            raise RuntimeError_("remove %s: %s" % (container_id[:12], pull_reason(err)))

    def exec_argv(self, container_id: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
        return exec_argv(self.docker, container_id, argv, tty, stdin)

    # --- usage -------------------------------------------------------------------------------
    def container_usage(self, pod_uid: str) -> Dict[str, Dict[str, int]]:
        """CPU (utime+stime+cutime+cstime) and RSS of each container's processes from /proc
        (``docker top`` and cgroup stats fail where containers run without cgroups, as on
        lab hosts); the pause is not counted."""
        roots = {c.pid: c.name for c in self.list_containers() if c.pod_uid == pod_uid and c.pid and c.state == "running"}
        ns_of = {}  # type: Dict[int, str]
        for name in os.listdir(self.proc) if roots else []:
            if name.isdigit():
                try:
                    ns_of[int(name)] = os.readlink(os.path.join(self.proc, name, "ns", "pid"))
                except OSError:
                    continue
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        out = {}  # type: Dict[str, Dict[str, int]]
        for root, cname in roots.items():
            cpu_ticks = 0
            rss = 0
            for pid in pod_pids(ns_of, [root]):
                try:
                    with open(os.path.join(self.proc, str(pid), "stat")) as f:
                        cpu_ticks += parse_stat(f.read())[1]
                    with open(os.path.join(self.proc, str(pid), "statm")) as f:
                        rss += int(f.read().split()[1]) * page
                except (OSError, ValueError, IndexError):
                    continue
            out[cname] = {"cpu_ns": cpu_ticks * 1000000000 // hz, "memory_bytes": rss}
        return out


def wait_exited(driver: DockerDriver, container_id: str, timeout: float) -> Optional[ContainerInfo]:
    """Poll until the container has exited (tests and the CLI helper); None on timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in driver.list_containers():
            if c.id == container_id and c.state == "exited":
                return c
        time.sleep(0.1)
    return None


def remove_all(driver: DockerDriver) -> int:
    """Remove every sandbox and container this driver made (for `kubeform down`)."""
    return remove_everything(driver)


def main(argv: Optional[List[str]] = None) -> int:
    """python3 -m kubeform.agent.runtime.docker remove-all [--config /etc/kubeform/agent.json]"""
    return remove_all_main(argv, "docker", lambda cfg: remove_all(DockerDriver.from_config(cfg)))


if __name__ == "__main__":
    raise SystemExit(main())
