"""The contract between the pod lifecycle and a container runtime (crun or docker).

Why an interface: the lifecycle decides *what* should run (pure, tested with data files);
a driver only knows *how* to run it on this host. Two drivers implement it (crun.py for
OCI bundles, docker.py for the docker CLI) and tests use a fake. Everything a driver
reports is read back from the host (state files, ``crun state``, ``docker inspect``), never
remembered in memory, so a restarted agent (kill -9, reboot) sees the same world.

Naming: every sandbox and container a driver makes is labelled with the pod's uid, so
``list_*`` finds them after a restart and nothing is ever duplicated.
"""

from typing import Dict, List, NamedTuple, Optional, Tuple


class PullError(Exception):
    """An image could not be pulled; ``reason`` is ErrImagePull (or ErrImageNeverPull)."""

    def __init__(self, message: str, reason: str = "ErrImagePull") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class RuntimeError_(Exception):
    """A container could not be created or started (reason RunContainerError)."""


class ImageInfo(NamedTuple):
    """A pulled image: its digest and the OCI config a container inherits."""

    ref: str  # the reference as the pod spec wrote it
    digest: str  # sha256:...
    entrypoint: List[str]
    cmd: List[str]
    env: List[str]  # "K=V"
    working_dir: str
    user: str
    stop_signal: str = ""  # the config's StopSignal as written ("SIGQUIT"); "" = SIGTERM


class Mount(NamedTuple):
    host_path: str
    container_path: str
    read_only: bool = False


class SandboxSpec(NamedTuple):
    """The pod's sandbox: network namespace (wired by CNI) and the pause container."""

    pod_uid: str
    namespace: str
    name: str
    hostname: str
    host_ports: List[Dict[str, object]]  # portmap's portMappings: hostPort, containerPort, protocol
    subdomain: str = ""  # spec.subdomain: /etc/hosts then holds <hostname>.<subdomain>.<ns>.svc.<domain>
    dns_policy: str = "ClusterFirst"  # spec.dnsPolicy: ClusterFirst | Default | None


class SandboxInfo(NamedTuple):
    pod_uid: str
    id: str
    netns_path: str  # what containers join: /run/netns/<name> or /proc/<pid>/ns/net
    ip: str  # the pod IP CNI gave it ("" when not wired)
    ready: bool  # the pause container runs and the netns exists


class ContainerSpec(NamedTuple):
    """One container to start in a sandbox; every field already resolved by the lifecycle."""

    pod_uid: str
    pod_namespace: str
    pod_name: str
    name: str  # container name in the pod spec
    attempt: int  # restart count: 0, 1, 2, ... (the log file is <attempt>.log)
    image: ImageInfo
    argv: List[str]  # entrypoint+cmd already merged with command/args
    env: List[str]  # "K=V", image env first, pod env after (later wins)
    working_dir: str
    user: Optional[int]
    group: Optional[int]
    mounts: List[Mount]
    log_path: str  # /var/log/pods/<ns>_<pod>_<uid>/<container>/<attempt>.log (CRI format)
    hostname: str
    cpu_limit_millis: int = 0  # resources.limits.cpu (0: none); enforced where the driver can
    memory_limit_bytes: int = 0  # resources.limits.memory (0: none)


class ContainerInfo(NamedTuple):
    """A container as the host reports it now."""

    pod_uid: str
    name: str
    attempt: int
    id: str
    state: str  # "created" | "running" | "exited"
    exit_code: Optional[int]
    started_at: str  # RFC 3339, "" when never started
    finished_at: str  # RFC 3339, "" while running
    pid: int  # 0 when not running
    reason: str  # Completed | Error | OOMKilled | "" while running


class Driver(object):
    """What a container runtime must do for the lifecycle. All methods are idempotent."""

    name = "abstract"

    def ensure_image(self, ref: str, pull_policy: str) -> ImageInfo:
        """Have the image locally (mirror first, then its origin); PullError when impossible."""
        raise NotImplementedError

    def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        """Create (or find) the pod's netns + pause container and wire it with CNI."""
        raise NotImplementedError

    def list_sandboxes(self) -> List[SandboxInfo]:
        raise NotImplementedError

    def remove_sandbox(self, pod_uid: str) -> None:
        """Remove the pod's containers that still run, the pause container, CNI DEL, the netns.

        Exited containers stay (a finished pod keeps its terminated states and its logs, as
        the kubelet keeps them); remove_container removes them. Gone already is fine."""
        raise NotImplementedError

    def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerInfo:
        """Create and start one container, detached, its output going to spec.log_path."""
        raise NotImplementedError

    def list_containers(self) -> List[ContainerInfo]:
        """Every container this driver made on this host, running or exited."""
        raise NotImplementedError

    def list_all(self) -> Tuple[List[SandboxInfo], List[ContainerInfo]]:
        """Sandboxes and containers at once: the manager's pass, where a driver may share
        one query of its runtime between both (crun: one `crun list`)."""
        return self.list_sandboxes(), self.list_containers()

    def stop_container(self, container_id: str, grace_seconds: float) -> None:
        """The image's stop signal (StopSignal, else SIGTERM), wait up to grace_seconds,
        then SIGKILL. Blocks until it has exited."""
        raise NotImplementedError

    def remove_container(self, container_id: str) -> None:
        raise NotImplementedError

    def exec_argv(self, container_id: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
        """The host command that runs argv inside the container (for exec and exec probes)."""
        raise NotImplementedError

    def usage(self, pod_uid: str) -> Dict[str, int]:
        """Measured use of the pod's containers: {"cpu_ns": ..., "memory_bytes": ...}
        (cumulative CPU time of their processes, and their resident memory now)."""
        total = {"cpu_ns": 0, "memory_bytes": 0}
        for one in self.container_usage(pod_uid).values():
            total["cpu_ns"] += one.get("cpu_ns", 0)
            total["memory_bytes"] += one.get("memory_bytes", 0)
        return total

    def container_usage(self, pod_uid: str) -> Dict[str, Dict[str, int]]:
        """The same per running container, by container name (each container has its own
        pid namespace, so its processes are told apart by it)."""
        raise NotImplementedError
