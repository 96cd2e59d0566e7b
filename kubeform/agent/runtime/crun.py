"""The crun driver: pods as OCI bundles run by crun, each container kept by a shim.

Layout on the host (all read back, nothing remembered in memory):

- <state_dir>/pods/<uid>/sandbox/      the sandbox (sandbox.py) + pause/config.json
- <state_dir>/containers/<id>/         bundle: config.json, meta.json, rootfs/ (mount
                                       point), shim.json, exit.json (shim.py)
- <state_dir>/images/                  the image store (images.py)
- <layer_dir>/<id>/{upper,work}        a container's writable overlay layer

Container ids: ``kfc-<pod uid>-<name>-<attempt>``, the pause ``kfp-<pod uid>``, so an id
alone says which pod it belongs to. crun's own state (/run/crun) says whether it runs.

Writable layer: overlayfs (the image's shared rootfs as lowerdir) with upper/work in
<state_dir>/layers when that file system can hold them, else in /run/kubeform/layers
(lab hosts: their root is itself an overlay, which cannot be an upperdir; tmpfs can; a
reboot loses the layer, as the container is gone too), else a copy of the rootfs.
"""

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional, Tuple

from . import bundlestate, crilog, crunstate, images, ocispec, procstat, sandbox, shim, shimserver, stopsignal
from .cleanup import remove_all_main, remove_everything
from .driver import ContainerInfo, ContainerSpec, Driver, ImageInfo, RuntimeError_, SandboxInfo, SandboxSpec

CRUN = "crun"
GLOBAL = ["--cgroup-manager=disabled"]  # lab hosts: no cgroup delegation (DEVELOPERS.md)
PAUSE_BUSYBOX = "/bin/busybox"
START_TIMEOUT = 10.0
RUN_LAYER_DIR = "/run/kubeform/layers"
CRUN_LOG = "crun.log"


def pod_prefix(pod_uid: str) -> str:
    return "kfc-%s-" % pod_uid


def container_id(spec: ContainerSpec) -> str:
    return "%s%s-%d" % (pod_prefix(spec.pod_uid), spec.name, spec.attempt)


def sandbox_id(pod_uid: str) -> str:
    return "kfp-" + pod_uid


class CrunDriver(Driver):
    name = "crun"

    def __init__(self, config: Any) -> None:
        """config: the AgentConfig (state_dir, registry, registry_ca, cni_*, cluster_dns...)."""
        self.state_dir = str(config.state_dir)
        self.containers_dir = os.path.join(self.state_dir, "containers")
        self.net = sandbox.PodNetwork(
            self.state_dir,
            config.cni_conf_dir,
            list(config.cni_bin_dirs),
            config.subnet_env,
            config.cluster_dns,
            config.cluster_domain,
        )
        self.images = images.ImageStore(self.state_dir, config.registry or "", config.registry_ca)
        self.layer_mode = ""  # "state" | "run" | "copy", found by the first container
        self._pause_lock = threading.Lock()
        self._pause_pids = {}  # type: Dict[str, int]  # sandbox id -> pid, a hint checked on use
        self.pythonpath = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        self.shims = shimserver.Launcher(self.pythonpath)  # forks shims: no Python start per container

    # --- images ------------------------------------------------------------------------
    def ensure_image(self, ref: str, pull_policy: str) -> ImageInfo:
        return self.images.ensure_image(ref, pull_policy)

    # --- sandboxes -----------------------------------------------------------------------
    def run_sandbox(self, spec: SandboxSpec) -> SandboxInfo:
        sid = sandbox_id(spec.pod_uid)
        # no sandbox directory yet: nothing of this pod was ever run here (its bundle lives
        # there, made before any `crun run`), so no `crun state` to ask
        known = os.path.isdir(self.net.sandbox_dir(spec.pod_uid))
        state = crun_state(sid) if known else None
        netns = self.net.netns_path(spec.pod_uid)
        if state is not None and state.get("status") == "running" and os.path.exists(netns):
            ip = self.net.cached_ip(spec.pod_uid)
            if ip:
                return SandboxInfo(spec.pod_uid, sid, netns, ip, True)
        if state is not None:  # a dead or half-made pause: start it again
            crun(["delete", "-f", sid], check=False)
        self.net.save_spec(spec)
        try:
            ip = self.net.setup(spec, sid)
        except sandbox.SandboxError as exc:
            raise RuntimeError_("sandbox network: %s" % exc) from None
        bundle = os.path.join(self.net.sandbox_dir(spec.pod_uid), "pause")
        os.makedirs(bundle, exist_ok=True)
        config = ocispec.pause_config(
            self.pause_rootfs(), ocispec.PodNamespaces(netns, 0), spec.hostname, spec.pod_uid, spec.namespace, spec.name
        )
        sandbox.write_atomic(os.path.join(bundle, "config.json"), json.dumps(config, indent=1))
        # a detached container inherits crun's stdio: a pipe would never close, so a file
        err_path = os.path.join(bundle, "pause.log")
        pid_path = os.path.join(bundle, "pause.pid")
        _unlink(pid_path)
        with open(err_path, "w") as err_file:
            try:
                proc = subprocess.run(
                    [CRUN] + GLOBAL + ["run", "--no-new-keyring", "--detach", "--pid-file", pid_path, "--bundle", bundle, sid],
                    stdin=subprocess.DEVNULL, stdout=err_file, stderr=err_file, timeout=60,
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise RuntimeError_("pause container: %s" % exc) from None
        pid = _read_pid(pid_path) if proc.returncode == 0 else 0
        if pid and in_netns(pid, netns):  # it runs in the pod's netns: no `crun state` to ask
            self._pause_pids[sid] = pid
            return SandboxInfo(spec.pod_uid, sid, netns, ip, True)
        state = crun_state(sid)
        if state is None or state.get("status") != "running":
            raise RuntimeError_("pause container did not start: %s" % (_read(err_path).strip()[-300:] or "no state"))
        return SandboxInfo(spec.pod_uid, sid, netns, ip, True)

    def pause_pid(self, sandbox_info: SandboxInfo) -> int:
        """The running pause's pid (0: it does not run): remembered from its start while
        that process is still in the pod's netns, else from `crun state`."""
        pid = self._pause_pids.get(sandbox_info.id, 0)
        if pid and in_netns(pid, sandbox_info.netns_path):
            return pid
        self._pause_pids.pop(sandbox_info.id, None)
        state = crun_state(sandbox_info.id)
        if state is None or state.get("status") != "running":
            return 0
        pid = int(state.get("pid", 0) or 0)
        if pid:
            self._pause_pids[sandbox_info.id] = pid
        return pid

    def pause_rootfs(self) -> str:
        """A read-only rootfs holding only busybox (the host's static one), shared by pods."""
        root = os.path.join(self.state_dir, "pause", "rootfs")
        if os.path.exists(os.path.join(root, "bin", "busybox")):
            return root
        with self._pause_lock:  # pods start in parallel threads
            if not os.path.exists(os.path.join(root, "bin", "busybox")):
                self._make_pause_rootfs(root)
        return root

    def _make_pause_rootfs(self, root: str) -> None:
        if not os.path.exists(PAUSE_BUSYBOX):
            raise RuntimeError_("%s is missing (install busybox-static): the pause needs it" % PAUSE_BUSYBOX)
        tmp = root + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for d in ("bin", "proc", "dev", "sys", "etc", "tmp"):
            os.makedirs(os.path.join(tmp, d), exist_ok=True)
        shutil.copy2(PAUSE_BUSYBOX, os.path.join(tmp, "bin", "busybox"))
        os.makedirs(os.path.dirname(root), exist_ok=True)
        shutil.rmtree(root, ignore_errors=True)
        os.rename(tmp, root)

    def list_sandboxes(self, states: Optional[Dict[str, Dict[str, Any]]] = None) -> List[SandboxInfo]:
        out = []  # type: List[SandboxInfo]
        states = crun_list() if states is None else states
        for uid in self.net.pod_uids():
            sid = sandbox_id(uid)
            netns = self.net.netns_path(uid)
            st = states.get(sid)
            ready = bool(st and st.get("status") == "running" and os.path.exists(netns))
            out.append(SandboxInfo(uid, sid, netns, self.net.cached_ip(uid), ready))
        return out

    def remove_sandbox(self, pod_uid: str) -> None:
        for c in self._metas():
            cid = str(c.get("id", ""))
            info = self._info(cid) if c.get("pod_uid") == pod_uid else None
            if info is not None and info.state != "exited":
                self.remove_container(cid)  # exited ones stay: a finished pod's status and logs
        sid = sandbox_id(pod_uid)
        self._pause_pids.pop(sid, None)
        crun(["kill", sid, "KILL"], check=False)
        crun(["delete", "-f", sid], check=False)
        self.net.teardown(pod_uid, sid)

    # --- containers -----------------------------------------------------------------------
    def container_dir(self, cid: str) -> str:
        return os.path.join(self.containers_dir, cid)

    def start_container(self, sandbox_info: SandboxInfo, spec: ContainerSpec) -> ContainerInfo:
        cid = container_id(spec)
        d = self.container_dir(cid)
        existing = self._info(cid)
        if existing is not None and existing.state != "created":
            return existing  # already started (an earlier call, before an agent restart)
        if existing is not None:
            self.remove_container(cid)
        pause_pid = self.pause_pid(sandbox_info)
        if not pause_pid:
            raise RuntimeError_("sandbox of pod %s is not running" % spec.pod_uid)
        lower = self.images.rootfs(spec.image.digest)
        if not os.path.isdir(lower):
            raise RuntimeError_("image %s is not unpacked (ensure_image first)" % spec.image.ref)
        try:
            uid, gid = ocispec.resolve_user(
                spec.user, spec.group, spec.image.user,
                _read(os.path.join(lower, "etc", "passwd")), _read(os.path.join(lower, "etc", "group")),
            )
        except ValueError as exc:
            raise RuntimeError_(str(exc)) from None
        os.makedirs(d, exist_ok=True)
        meta = {"id": cid, "pod_uid": spec.pod_uid, "name": spec.name, "attempt": spec.attempt,
                "log_path": spec.log_path, "image": spec.image.ref, "created": time.time(),
                "stop_signal": stopsignal.short(spec.image.stop_signal)}
        sandbox.write_atomic(os.path.join(d, "meta.json"), json.dumps(meta, sort_keys=True))
        rootfs = os.path.join(d, "rootfs")
        # crun's own errors (not the container's output) go to crun.log: StartError's message
        argv = [CRUN] + GLOBAL + ["--log=file:" + os.path.join(d, CRUN_LOG), "run", "--no-new-keyring", "--bundle", d, cid]
        try:
            self._mount_layer(cid, lower, rootfs)
            ns = ocispec.PodNamespaces(sandbox_info.netns_path, pause_pid)
            config = ocispec.container_config(spec, rootfs, ns, self.net.files(spec.pod_uid), uid, gid)
            sandbox.write_atomic(os.path.join(d, "config.json"), json.dumps(config, indent=1))
            self.shims.launch(d, spec.log_path, argv)
        except (RuntimeError_, OSError, subprocess.SubprocessError) as exc:
            self.remove_container(cid)  # nothing half-made stays to be mistaken for a run
            raise RuntimeError_(str(exc)) from None
        deadline = time.time() + START_TIMEOUT
        pause_s = 0.005
        while True:
            # until the shim has written shim.json (or exit.json) nothing can run yet: look
            # at the files alone, not at `crun state` (an exec per look, on a busy host)
            if shim.read_state(d, shim.SHIM_FILE) is not None or shim.read_state(d, shim.EXIT_FILE) is not None:
                info = self._info(cid)
                if info is not None and info.state != "created":
                    return info
            if time.time() > deadline:
                raise RuntimeError_("container %s did not start within %ds" % (cid, START_TIMEOUT))
            time.sleep(pause_s)
            pause_s = min(0.05, pause_s * 1.5)

    def _mount_layer(self, cid: str, lower: str, rootfs: str) -> None:
        """The container's root: overlay of the shared image rootfs, or a copy of it."""
        os.makedirs(rootfs, exist_ok=True)
        if os.path.ismount(rootfs):
            return
        modes = [self.layer_mode] if self.layer_mode else ["state", "run", "copy"]
        for mode in modes:
            if mode == "copy":
                shutil.rmtree(rootfs)
                proc = subprocess.run(["cp", "-a", lower, rootfs], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                      universal_newlines=True)
                if proc.returncode != 0:
                    raise RuntimeError_("cannot copy the image's rootfs: %s" % proc.stderr.strip()[-200:])
                self.layer_mode = mode
                return
            base = os.path.join(self.state_dir, "layers") if mode == "state" else RUN_LAYER_DIR
            upper, work = os.path.join(base, cid, "upper"), os.path.join(base, cid, "work")
            os.makedirs(upper, exist_ok=True)
            os.makedirs(work, exist_ok=True)
            opts = "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, upper, work)
            proc = subprocess.run(["mount", "-t", "overlay", "overlay", "-o", opts, rootfs],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True)
            if proc.returncode == 0:
                self.layer_mode = mode
                return
            shutil.rmtree(os.path.join(base, cid), ignore_errors=True)
        raise RuntimeError_("cannot make the writable layer of %s" % cid)

    def _metas(self) -> List[Dict[str, Any]]:
        try:
            names = sorted(os.listdir(self.containers_dir))
        except OSError:
            return []
        out = []
        for n in names:
            meta = sandbox.read_json(os.path.join(self.containers_dir, n, "meta.json"))
            if meta is not None:
                out.append(meta)
        return out

    def _info(self, cid: str, states: Optional[Dict[str, Dict[str, Any]]] = None) -> Optional[ContainerInfo]:
        d = self.container_dir(cid)
        meta = sandbox.read_json(os.path.join(d, "meta.json"))
        if meta is None:
            return None
        shim_state = shim.read_state(d, shim.SHIM_FILE)
        exit_state = shim.read_state(d, shim.EXIT_FILE)
        alive = exit_state is None and shim_alive(shim_state, d)
        st = None  # type: Optional[Dict[str, Any]]
        if exit_state is None:
            st = states.get(cid) if states is not None else crun_state(cid)
        age = time.time() - float(meta.get("created", 0))
        crun_err = _read(os.path.join(d, CRUN_LOG)) if exit_state is not None else ""
        info = bundlestate.container_info(meta, shim_state, exit_state, alive, st, age, crun_err)
        if exit_state is None and info.state == "exited":
            # nobody saw it end (reboot, shim killed): record it once, so it stays the same
            lost = {"exit_code": info.exit_code, "started_at": info.started_at,
                    "finished_at": crilog.timestamp(time.time()), "lost": True}
            sandbox.write_atomic(os.path.join(d, shim.EXIT_FILE), json.dumps(lost, sort_keys=True))
            info = info._replace(finished_at=str(lost["finished_at"]))
        return info

    def list_containers(self, states: Optional[Dict[str, Dict[str, Any]]] = None) -> List[ContainerInfo]:
        states = crun_list() if states is None else states
        out = []  # type: List[ContainerInfo]
        for meta in self._metas():
            info = self._info(str(meta.get("id", "")), states)
            if info is not None:
                out.append(info)
        return out

    def list_all(self) -> Tuple[List[SandboxInfo], List[ContainerInfo]]:
        states = crun_list()  # one read of crun's state per pass, not one per list
        return self.list_sandboxes(states), self.list_containers(states)

    def stop_container(self, container_id: str, grace_seconds: float) -> None:
        deadline = time.time() + max(0.0, grace_seconds)
        if not self._running(container_id):
            return
        meta = sandbox.read_json(os.path.join(self.container_dir(container_id), "meta.json")) or {}
        # the image's StopSignal, kept with the container when it started (TERM before that)
        crun(["kill", container_id, stopsignal.short(str(meta.get("stop_signal") or ""))], check=False)
        while time.time() < deadline:
            if not self._running(container_id):
                return
            time.sleep(0.05)
        crun(["kill", container_id, "KILL"], check=False)
        hard = time.time() + 10
        while time.time() < hard and self._running(container_id):
            time.sleep(0.02)

    def _running(self, cid: str) -> bool:
        """Whether something may still run: no exit.json, and its shim or crun knows it."""
        d = self.container_dir(cid)
        if shim.read_state(d, shim.EXIT_FILE) is not None or not os.path.isdir(d):
            return False
        return shim_alive(shim.read_state(d, shim.SHIM_FILE), d) or crun_state(cid) is not None

    def remove_container(self, container_id: str) -> None:
        if not container_id:
            return
        d = self.container_dir(container_id)
        if self._running(container_id):
            crun(["kill", container_id, "KILL"], check=False)
            hard = time.time() + 10
            while time.time() < hard and self._running(container_id):
                time.sleep(0.02)
        crun(["delete", "-f", container_id], check=False)
        shim_state = shim.read_state(d, shim.SHIM_FILE) or {}
        shim_pid = int(shim_state.get("shim_pid", 0) or 0)
        if shim_pid and shim_alive(shim_state, d):
            _kill(shim_pid, signal.SIGKILL)
        rootfs = os.path.join(d, "rootfs")
        if os.path.ismount(rootfs):
            subprocess.run(["umount", "-l", rootfs], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for base in (os.path.join(self.state_dir, "layers"), RUN_LAYER_DIR):
            shutil.rmtree(os.path.join(base, container_id), ignore_errors=True)
        if not os.path.ismount(rootfs):
            shutil.rmtree(d, ignore_errors=True)

    def exec_argv(self, container_id: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
        return [CRUN] + GLOBAL + ["exec"] + (["--tty"] if tty else []) + [container_id] + list(argv)

    def container_usage(self, pod_uid: str) -> Dict[str, Dict[str, int]]:
        """CPU and RSS of every process in each container's pid namespace (/proc)."""
        name_of_ns = {}  # type: Dict[str, str]
        states = crun_list()
        for meta in self._metas():
            if meta.get("pod_uid") != pod_uid:
                continue
            st = states.get(str(meta.get("id", "")))
            pid = int((st or {}).get("pid", 0) or 0)
            if pid:
                try:
                    name_of_ns[os.readlink("/proc/%d/ns/pid" % pid)] = str(meta.get("name", ""))
                except OSError:
                    pass
        samples = {}  # type: Dict[str, List[Dict[str, int]]]
        if name_of_ns:
            for p in os.listdir("/proc"):
                if not p.isdigit():
                    continue
                try:
                    name = name_of_ns.get(os.readlink("/proc/%s/ns/pid" % p))
                    if name is None:
                        continue
                    ticks = bundlestate.proc_stat_times(_read("/proc/%s/stat" % p, strict=True))
                    rss = bundlestate.proc_status_rss(_read("/proc/%s/status" % p, strict=True))
                except (OSError, ValueError, IndexError):
                    continue
                samples.setdefault(name, []).append({"ticks": ticks, "rss": rss})
        hz = os.sysconf("SC_CLK_TCK")
        return {name: bundlestate.sum_usage(samples.get(name, []), hz) for name in name_of_ns.values()}


def shim_alive(shim_state: Optional[Dict[str, Any]], state_dir: str) -> bool:
    """Whether the shim recorded in shim.json still runs: a shim's process (its cmdline
    names the shim module) with the recorded start time, so a pid reused after a reboot
    does not count. Shims from before start times were recorded (or started as processes
    of their own) are known by their cmdline naming this bundle."""
    if not shim_state:
        return False
    pid = int(shim_state.get("shim_pid", 0) or 0)
    if not pid:
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().split(b"\0")
    except OSError:
        return False
    if b"kubeform.agent.runtime.shim" not in cmdline:
        return False
    start = int(shim_state.get("shim_start", 0) or 0)
    if start:
        return procstat.started_ticks(pid) == start
    return state_dir.encode() in cmdline


def crun(args: List[str], check: bool = True) -> str:
    """Run crun with the global flags; its stderr ("" when it succeeded)."""
    try:
        proc = subprocess.run(
            [CRUN] + GLOBAL + args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        if check:
            raise RuntimeError_("crun %s: %s" % (args[0], exc)) from None
        return str(exc)
    if proc.returncode != 0:
        err = proc.stderr.strip() or ("exited %d" % proc.returncode)
        if check:
            raise RuntimeError_("crun %s: %s" % (args[0], err))
        return err
    return ""


def crun_state(cid: str) -> Optional[Dict[str, Any]]:
    """`crun state ID` as a dict, None when crun knows no such container: read from crun's
    state directory (crunstate.py), asked of crun itself only when that cannot tell."""
    if not os.path.isdir(os.path.join(crunstate.state_root(), cid)):
        return None
    known = crunstate.read(cid)
    if known is not None:
        return known
    try:
        proc = subprocess.run(
            [CRUN] + GLOBAL + ["state", cid],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    try:
        value = json.loads(proc.stdout)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def crun_list() -> Dict[str, Dict[str, Any]]:
    """Every container crun knows: id -> {"pid", "status", "bundle"}, read from crun's
    state directory (crunstate.py), else from one `crun list`."""
    known = crunstate.list_all()
    if known is not None:
        return known
    try:
        proc = subprocess.run(
            [CRUN] + GLOBAL + ["list", "--format", "json"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
            timeout=30,
        )
        rows = json.loads(proc.stdout or "[]") if proc.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        rows = []
    return {str(r.get("id")): r for r in rows or [] if isinstance(r, dict)}


def in_netns(pid: int, netns_path: str) -> bool:
    """Whether process pid lives in the network namespace bound at netns_path."""
    try:
        a, b = os.stat("/proc/%d/ns/net" % pid), os.stat(netns_path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_pid(path: str) -> int:
    text = _read(path).strip()
    return int(text) if text.isdigit() else 0


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def _read(path: str, strict: bool = False) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        if strict:
            raise
        return ""



def remove_all(driver: CrunDriver) -> int:
    """Remove every sandbox and container this driver made (for `kubeform down`), and crun
    state whose bundle directory is already gone; the number removed."""

    def docker_owned(uid: str) -> bool:  # the docker driver shares sandbox.py's layout
        return (driver.net.load(uid) or {}).get("runtime") == "docker"

    n = remove_everything(driver, skip_sandbox=docker_owned)
    root = os.path.join(driver.state_dir, "")
    for cid, st in crun_list().items():
        if cid.startswith(("kfp-", "kfc-")) and str(st.get("bundle", "")).startswith(root):
            crun(["delete", "-f", cid], check=False)
            n += 1
    return n


def main(argv: Optional[List[str]] = None) -> int:
    """python3 -m kubeform.agent.runtime.crun remove-all [--config /etc/kubeform/agent.json]"""
    return remove_all_main(argv, "crun", lambda cfg: remove_all(CrunDriver(cfg)))


if __name__ == "__main__":
    raise SystemExit(main())
