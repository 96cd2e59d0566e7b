"""An in-memory Driver for tests of the lifecycle manager (and for trying the agent on a
host without crun or docker). It keeps what a real driver would read back from the host,
and lets a test make containers exit, images fail to pull and exec probes fail.
"""

import datetime
import threading
from typing import Dict, List, Optional, Set

from kubeform.api.events import rfc3339

from .driver import ContainerInfo, ContainerSpec, Driver, ImageInfo, PullError, SandboxInfo, SandboxSpec


class FakeDriver(Driver):
    name = "fake"

    def __init__(self, subnet_prefix: str = "10.244.1.") -> None:
        self.lock = threading.Lock()
        self.sandboxes = {}  # type: Dict[str, SandboxInfo]
        self.containers = {}  # type: Dict[str, ContainerInfo]
        self.specs = {}  # type: Dict[str, ContainerSpec]
        self.bad_images = {}  # type: Dict[str, str]
        self.pulls = []  # type: List[str]
        self.started = []  # type: List[str]  # "uid/name/attempt" in start order
        self.stopped = []  # type: List[str]  # container ids
        self.exec_fails = set()  # type: Set[str]  # container names whose exec probes (and hooks) fail
        self.execs = []  # type: List[List[str]]  # [container id, *argv] of every exec asked for
        self.stop_grace = {}  # type: Dict[str, float]
        self.removed_sandboxes = []  # type: List[str]
        self.prefix = subnet_prefix
        self.cpu_calls = 0
        self.next_ip = 2
        self.ips = {}  # type: Dict[str, str]  # uid -> IP kept across sandbox re-creation
        self.serial = 0
        self.clock = datetime.datetime.utcnow  # tests may replace it

    def _now(self) -> str:
        return rfc3339(self.clock())

    def ensure_image(self, ref: str, pull_policy: str) -> ImageInfo:
        with self.lock:
            self.pulls.append(ref)
            if ref in self.bad_images:
                raise PullError(self.bad_images[ref])
        return ImageInfo(ref, "sha256:" + ("%064x" % abs(hash(ref)))[:64], ["/bin/sh"], ["-c", "sleep 3600"], ["PATH=/bin"], "/", "")

    def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        with self.lock:
            found = self.sandboxes.get(spec.pod_uid)
            if found is not None and found.ready:
                return found
            ip = self.ips.get(spec.pod_uid)
            if ip is None:
                ip = self.prefix + str(self.next_ip)
                self.next_ip += 1
                self.ips[spec.pod_uid] = ip
            info = SandboxInfo(spec.pod_uid, "sb-" + spec.pod_uid, "/run/netns/" + spec.pod_uid, ip, True)
            self.sandboxes[spec.pod_uid] = info
            return info

    def list_sandboxes(self) -> List[SandboxInfo]:
        with self.lock:
            return list(self.sandboxes.values())

    def remove_sandbox(self, pod_uid: str) -> None:
        with self.lock:
            if self.sandboxes.pop(pod_uid, None) is not None:
                self.removed_sandboxes.append(pod_uid)

    def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerInfo:
        with self.lock:
            for c in self.containers.values():
                if (c.pod_uid, c.name, c.attempt) == (spec.pod_uid, spec.name, spec.attempt):
                    raise AssertionError("duplicate container %s/%s/%d" % (spec.pod_uid, spec.name, spec.attempt))
            self.serial += 1
            cid = "c%04d" % self.serial
            info = ContainerInfo(spec.pod_uid, spec.name, spec.attempt, cid, "running", None, self._now(), "", 4242, "")
            self.containers[cid] = info
            self.specs[cid] = spec
            self.started.append("%s/%s/%d" % (spec.pod_uid, spec.name, spec.attempt))
            return info

    def list_containers(self) -> List[ContainerInfo]:
        with self.lock:
            return list(self.containers.values())

    def exit(self, pod_uid: str, name: str, code: int) -> None:
        """Make the running container ``name`` of a pod exit with ``code`` (test hook)."""
        with self.lock:
            for cid, c in self.containers.items():
                if c.pod_uid == pod_uid and c.name == name and c.state == "running":
                    self.containers[cid] = c._replace(
                        state="exited", exit_code=code, finished_at=self._now(), pid=0,
                        reason="Completed" if code == 0 else "Error",
                    )

    def stop_container(self, container_id: str, grace_seconds: float) -> None:
        with self.lock:
            c = self.containers.get(container_id)
            if c is None or c.state != "running":
                return
            self.stopped.append(container_id)
            self.stop_grace[container_id] = grace_seconds
            self.containers[container_id] = c._replace(
                state="exited", exit_code=137, finished_at=self._now(), pid=0, reason="Error"
            )

    def remove_container(self, container_id: str) -> None:
        with self.lock:
            self.containers.pop(container_id, None)

    def exec_argv(self, container_id: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
        with self.lock:
            self.execs.append([container_id] + list(argv))
            c = self.containers.get(container_id)
            fails = c is not None and c.name in self.exec_fails
        return ["false"] if fails else ["true"]

    def container_usage(self, pod_uid: str) -> Dict[str, Dict[str, int]]:
        """1 ms of CPU per list and 1 MiB per running container (tests read the rates)."""
        with self.lock:
            self.cpu_calls += 1
            running = [c.name for c in self.containers.values() if c.pod_uid == pod_uid and c.state == "running"]
            return {name: {"cpu_ns": 1000000 * self.cpu_calls, "memory_bytes": 1048576} for name in running}

    def find(self, pod_uid: str, name: str) -> Optional[ContainerInfo]:
        """The newest attempt of a container (test helper)."""
        mine = [c for c in self.list_containers() if c.pod_uid == pod_uid and c.name == name]
        return max(mine, key=lambda c: c.attempt) if mine else None
