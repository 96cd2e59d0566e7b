"""A pod's network and name files, shared by both runtimes (crun and docker).

Why separate from the runtimes: the network namespace, its CNI wiring and /etc/hosts,
/etc/resolv.conf, /etc/hostname are the same whatever runs the containers. crun joins
the named netns (/run/netns/kf-<uid12>) by path; docker can wire its pause container's
/proc/<pid>/ns/net with the same ``wire``.

Everything is kept on disk under <state_dir>/pods/<uid>/sandbox/ (the spec, the cached
CNI result, the files), so a restarted agent finds the same IP and never wires twice.
Only that subdirectory is ours: the pod's volumes live next to it.
"""

import json
import os
import shutil
import subprocess
from typing import Any, Dict, List, Optional

from ..executor import read_file_or_empty as _read
from . import cni, podfiles
from .driver import SandboxSpec

NETNS_DIR = "/run/netns"


class SandboxError(Exception):
    """The netns or its wiring could not be made (reason for the pod's events)."""


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    """Replace a file whole (a reader never sees half of it, a crash leaves the old one)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def spec_to_json(spec: SandboxSpec) -> Dict[str, Any]:
    return dict(spec._asdict())


def spec_from_json(raw: Dict[str, Any]) -> SandboxSpec:
    fields = {k: raw[k] for k in SandboxSpec._fields if k in raw}
    return SandboxSpec(**fields)


class PodNetwork(object):
    """Netns + CNI + name files of the pods on this node (see the module docstring)."""

    def __init__(
        self,
        state_dir: str,
        cni_conf_dir: str,
        cni_bin_dirs: List[str],
        subnet_env: str,
        cluster_dns: str,
        cluster_domain: str,
    ) -> None:
        self.state_dir = state_dir
        self.cni_conf_dir = cni_conf_dir
        self.cni_bin_dirs = cni_bin_dirs
        self.subnet_env = subnet_env
        self.cluster_dns = cluster_dns
        self.cluster_domain = cluster_domain
        self._netconf = None  # type: Optional[Dict[str, Any]]

    # --- paths -------------------------------------------------------------------------
    def pod_dir(self, pod_uid: str) -> str:
        """<state_dir>/pods/<uid>: the pod's own directory (volumes may live here too)."""
        return os.path.join(self.state_dir, "pods", pod_uid)

    def sandbox_dir(self, pod_uid: str) -> str:
        return os.path.join(self.pod_dir(pod_uid), "sandbox")

    def netns_path(self, pod_uid: str) -> str:
        return os.path.join(NETNS_DIR, podfiles.netns_name(pod_uid))

    def files(self, pod_uid: str) -> Dict[str, str]:
        """Container path -> host path of the files every container of the pod mounts."""
        d = self.sandbox_dir(pod_uid)
        return {
            "/etc/hosts": os.path.join(d, "hosts"),
            "/etc/resolv.conf": os.path.join(d, "resolv.conf"),
            "/etc/hostname": os.path.join(d, "hostname"),
        }

    # --- spec on disk ------------------------------------------------------------------
    def save_spec(self, spec: SandboxSpec, extra: Optional[Dict[str, Any]] = None) -> None:
        d = self.sandbox_dir(spec.pod_uid)
        os.makedirs(d, exist_ok=True)
        raw = spec_to_json(spec)
        raw.update(extra or {})
        write_atomic(os.path.join(d, "sandbox.json"), json.dumps(raw, sort_keys=True))

    def load(self, pod_uid: str) -> Optional[Dict[str, Any]]:
        """The saved sandbox.json (spec fields plus what the runtime added), None if none."""
        return read_json(os.path.join(self.sandbox_dir(pod_uid), "sandbox.json"))

    def pod_uids(self) -> List[str]:
        """Every pod with a sandbox directory on this node."""
        root = os.path.join(self.state_dir, "pods")
        try:
            names = sorted(os.listdir(root))
        except OSError:
            return []
        return [n for n in names if os.path.exists(os.path.join(root, n, "sandbox", "sandbox.json"))]

    def cached_ip(self, pod_uid: str) -> str:
        result = read_json(os.path.join(self.sandbox_dir(pod_uid), "cni-result.json"))
        ips = cni.parse_ips(result or {})
        return ips[0].address if ips else ""

    # --- netns -------------------------------------------------------------------------
    def ensure_netns(self, pod_uid: str) -> str:
        """Create /run/netns/kf-<uid12> unless it exists; its path."""
        path = self.netns_path(pod_uid)
        if os.path.exists(path):
            return path
        run(["ip", "netns", "add", podfiles.netns_name(pod_uid)])
        return path

    def delete_netns(self, pod_uid: str) -> None:
        if os.path.exists(self.netns_path(pod_uid)):
            run(["ip", "netns", "delete", podfiles.netns_name(pod_uid)], check=False)

    # --- CNI ---------------------------------------------------------------------------
    def netconf(self) -> Dict[str, Any]:
        """The node's conflist (written to cni_conf_dir), read from subnet.env once."""
        if self._netconf is None:
            try:
                self._netconf = cni.load_node_conflist(self.subnet_env, self.cni_conf_dir)
            except cni.CNIError as exc:
                raise SandboxError(str(exc)) from None
        return self._netconf

    def wire(self, spec: SandboxSpec, sandbox_id: str, netns_path: str) -> str:
        """CNI ADD (loopback, then the pod network) unless already done; the pod IP.

        The result is cached in cni-result.json: present means wired (an agent restart
        re-uses it, so the IP never changes); it feeds DEL's prevResult too.
        """
        d = self.sandbox_dir(spec.pod_uid)
        os.makedirs(d, exist_ok=True)
        result_path = os.path.join(d, "cni-result.json")
        cached = read_json(result_path)
        mark = netns_mark(netns_path)
        if cached is not None and cached.get("_netns") == netns_path and cached.get("_mark") == mark and mark:
            ips = cni.parse_ips(cached)
            if ips:
                return ips[0].address
        if cached is not None:  # stale (netns gone after a reboot, or another netns): free it
            self.unwire(spec.pod_uid, sandbox_id, netns_path)
        rc = {"portMappings": spec.host_ports} if spec.host_ports else {}
        try:
            cni.add(cni.loopback_conflist(), sandbox_id, netns_path, self.cni_bin_dirs, ifname="lo")
            result = cni.add(self.netconf(), sandbox_id, netns_path, self.cni_bin_dirs, rc)
        except cni.CNIError as exc:
            try:
                cni.delete(self.netconf(), sandbox_id, netns_path, self.cni_bin_dirs, None, rc)
            except cni.CNIError:
                pass
            raise SandboxError("CNI ADD failed: %s" % exc) from None
        ips = cni.parse_ips(result)
        if not ips:
            raise SandboxError("CNI ADD gave no IPv4 address: %s" % json.dumps(result)[:200])
        result["_netns"] = netns_path
        result["_mark"] = mark
        result["_runtimeConfig"] = rc
        write_atomic(result_path, json.dumps(result, sort_keys=True))
        return ips[0].address

    def unwire(self, pod_uid: str, sandbox_id: str, netns_path: str) -> None:
        """CNI DEL with the cached result (frees the IP, removes hostPort rules)."""
        result_path = os.path.join(self.sandbox_dir(pod_uid), "cni-result.json")
        cached = read_json(result_path)
        if cached is None:
            return
        rc = cached.pop("_runtimeConfig", {}) or {}
        cached.pop("_netns", None)
        cached.pop("_mark", None)
        ns = netns_path if os.path.exists(netns_path) else ""
        try:
            cni.delete(self.netconf(), sandbox_id, ns, self.cni_bin_dirs, cached, rc)
        except (cni.CNIError, SandboxError):
            pass  # best effort: the netns goes anyway, host-local's dataDir is on /run
        try:
            os.unlink(result_path)
        except OSError:
            pass

    # --- name files --------------------------------------------------------------------
    def write_files(self, spec: SandboxSpec, ip: str) -> Dict[str, str]:
        """Write hosts, resolv.conf, hostname for the pod; container path -> host path."""
        d = self.sandbox_dir(spec.pod_uid)
        os.makedirs(d, exist_ok=True)
        paths = self.files(spec.pod_uid)
        write_atomic(
            paths["/etc/hosts"],
            podfiles.hosts_file(spec.hostname, ip, spec.subdomain, spec.namespace, self.cluster_domain),
        )
        write_atomic(paths["/etc/resolv.conf"], self.resolv_text(spec))
        write_atomic(paths["/etc/hostname"], spec.hostname + "\n")
        return paths

    def resolv_text(self, spec: SandboxSpec) -> str:
        etc = _read("/etc/resolv.conf")
        host = podfiles.parse_resolv(_read(podfiles.host_resolv_path(etc)) or etc)
        return podfiles.resolv_conf(spec.dns_policy, spec.namespace, self.cluster_dns, self.cluster_domain, host)

    # --- whole ---------------------------------------------------------------------------
    def setup(self, spec: SandboxSpec, sandbox_id: str) -> str:
        """Named netns, wired, files written: the pod IP. Idempotent."""
        ns = self.ensure_netns(spec.pod_uid)
        ip = self.wire(spec, sandbox_id, ns)
        self.write_files(spec, ip)
        return ip

    def teardown(self, pod_uid: str, sandbox_id: str) -> None:
        """CNI DEL, delete the netns, remove the sandbox directory. Gone already is fine."""
        self.unwire(pod_uid, sandbox_id, self.netns_path(pod_uid))
        self.delete_netns(pod_uid)
        shutil.rmtree(self.sandbox_dir(pod_uid), ignore_errors=True)
        try:
            os.rmdir(self.pod_dir(pod_uid))  # only when nothing else (volumes) is left
        except OSError:
            pass


def netns_mark(netns_path: str) -> str:
    """Which network namespace a path names now: boot id + the namespace's inode. A netns
    re-made under the same name (after a reboot) differs, so it is wired again."""
    try:
        ino = os.stat(netns_path).st_ino
    except OSError:
        return ""
    return "%s/%d" % (_read("/proc/sys/kernel/random/boot_id").strip(), ino)


def run(argv: List[str], check: bool = True, timeout: float = 60) -> str:
    """Run a host tool; SandboxError with its stderr's last line when it fails."""
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        if check:
            raise SandboxError("%s: %s" % (argv[0], exc)) from None
        return ""
    if check and proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise SandboxError("%s exited %d: %s" % (" ".join(argv[:3]), proc.returncode, lines[-1] if lines else ""))
    return proc.stdout
