"""OCI runtime specs (config.json) for a pod's pause and app containers, as pure functions.

Why pure: what a container gets (namespaces joined, mounts, user, capabilities, labels)
is the security- and behaviour-relevant part of the runtime; as data in, dict out it is
checked against golden files. The layout follows what containerd's CRI plugin generates
for runc/crun: a pause container owning the UTS and IPC namespaces (joined by path by
every container of the pod), the pod's network namespace joined by path, a pid and mount
namespace per container, Docker's default capability set, and the usual masked paths.
"""

from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from .driver import ContainerSpec

OCI_VERSION = "1.0.2"
PAUSE_ARGV = ["/bin/busybox", "sleep", "2147483647"]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Docker's (and containerd's) default capabilities for a container.
DEFAULT_CAPS = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
]
MASKED_PATHS = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# Annotations a restarted agent reads back (containerd's CRI labels, same keys).
ANN_POD_UID = "io.kubernetes.pod.uid"
ANN_POD_NAME = "io.kubernetes.pod.name"
ANN_POD_NAMESPACE = "io.kubernetes.pod.namespace"
ANN_CONTAINER_NAME = "io.kubernetes.container.name"
ANN_ATTEMPT = "io.kubernetes.container.restartCount"
ANN_LOG_PATH = "io.kubernetes.container.logpath"
ANN_KIND = "io.kubernetes.cri.container-type"  # "sandbox" | "container"


class PodNamespaces(NamedTuple):
    """What a container joins: the netns path and the pause process's UTS/IPC."""

    netns: str  # /run/netns/kf-...
    pause_pid: int  # 0: own UTS/IPC (only the pause itself)


def base_mounts() -> List[Dict[str, Any]]:
    """The kernel file systems every container gets (runc's and crun's default set)."""
    return [
        {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]


def bind(host: str, container: str, read_only: bool) -> Dict[str, Any]:
    opts = ["rbind", "rprivate", "ro" if read_only else "rw"]
    return {"destination": container, "type": "bind", "source": host, "options": opts}


def namespaces(ns: PodNamespaces, hostname: str) -> Tuple[List[Dict[str, str]], Optional[str]]:
    """The namespace list and the hostname to set (only where the UTS namespace is new)."""
    out = [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": ns.netns}]
    if ns.pause_pid:
        out.append({"type": "ipc", "path": "/proc/%d/ns/ipc" % ns.pause_pid})
        out.append({"type": "uts", "path": "/proc/%d/ns/uts" % ns.pause_pid})
        return out, None
    out += [{"type": "ipc"}, {"type": "uts"}]
    return out, hostname


def _process(argv: List[str], env: List[str], cwd: str, uid: int, gid: int) -> Dict[str, Any]:
    if not any(e.startswith("PATH=") for e in env):
        env = [PATH_ENV] + env
    return {
        "terminal": False,
        "user": {"uid": uid, "gid": gid},
        "args": argv,
        "env": env,
        "cwd": cwd or "/",
        "capabilities": {
            "bounding": list(DEFAULT_CAPS),
            "effective": list(DEFAULT_CAPS),
            "permitted": list(DEFAULT_CAPS),
        },
        "noNewPrivileges": False,
    }


def _linux(nss: List[Dict[str, str]]) -> Dict[str, Any]:
    return {
        "namespaces": nss,
        "maskedPaths": list(MASKED_PATHS),
        "readonlyPaths": list(READONLY_PATHS),
    }


def pause_config(rootfs: str, ns: PodNamespaces, hostname: str, pod_uid: str, namespace: str, name: str) -> Dict[str, Any]:
    """The pod's pause: busybox sleeping for ever on a shared read-only rootfs; it owns the
    UTS namespace (the pod's hostname) and IPC namespace the containers join."""
    nss, host = namespaces(PodNamespaces(ns.netns, 0), hostname)
    spec = {
        "ociVersion": OCI_VERSION,
        "process": _process(list(PAUSE_ARGV), [], "/", 0, 0),
        "root": {"path": rootfs, "readonly": True},
        "mounts": base_mounts(),
        "linux": _linux(nss),
        "annotations": {
            ANN_POD_UID: pod_uid,
            ANN_POD_NAME: name,
            ANN_POD_NAMESPACE: namespace,
            ANN_KIND: "sandbox",
        },
    }  # type: Dict[str, Any]
    spec["process"]["capabilities"] = {"bounding": [], "effective": [], "permitted": []}
    if host:
        spec["hostname"] = host
    return spec


def container_config(
    spec: ContainerSpec, rootfs: str, ns: PodNamespaces, pod_files: Dict[str, str], uid: int, gid: int
) -> Dict[str, Any]:
    """config.json for one app or init container of a pod.

    pod_files maps /etc/hosts, /etc/resolv.conf and /etc/hostname to the sandbox's files;
    a mount of the pod spec on the same path wins (as in Kubernetes).
    """
    nss, host = namespaces(ns, spec.hostname)
    mounts = base_mounts()
    own = set(m.container_path for m in spec.mounts)
    for path in sorted(pod_files):
        if path not in own:
            mounts.append(bind(pod_files[path], path, False))
    for m in spec.mounts:
        mounts.append(bind(m.host_path, m.container_path, m.read_only))
    config = {
        "ociVersion": OCI_VERSION,
        "process": _process(list(spec.argv), list(spec.env), spec.working_dir, uid, gid),
        "root": {"path": rootfs, "readonly": False},
        "mounts": mounts,
        "linux": _linux(nss),
        "annotations": {
            ANN_POD_UID: spec.pod_uid,
            ANN_POD_NAME: spec.pod_name,
            ANN_POD_NAMESPACE: spec.pod_namespace,
            ANN_CONTAINER_NAME: spec.name,
            ANN_ATTEMPT: str(spec.attempt),
            ANN_LOG_PATH: spec.log_path,
            ANN_KIND: "container",
        },
    }  # type: Dict[str, Any]
    if host:
        config["hostname"] = host
    return config


def resolve_user(
    uid: Optional[int], gid: Optional[int], image_user: str, passwd: str, group: str
) -> Tuple[int, int]:
    """(uid, gid) to run as: securityContext first, else the image's User ("name",
    "uid", "name:group", "uid:gid") looked up in the image's /etc/passwd and /etc/group;
    a uid without a group gets its passwd gid (0 when unknown). ValueError for a name the
    image does not know (CreateContainerConfigError)."""
    users = {}  # type: Dict[str, Tuple[int, int]]
    for line in passwd.splitlines():
        f = line.split(":")
        if len(f) >= 4 and f[2].isdigit() and f[3].isdigit():
            users.setdefault(f[0], (int(f[2]), int(f[3])))
    groups = {}  # type: Dict[str, int]
    for line in group.splitlines():
        f = line.split(":")
        if len(f) >= 3 and f[2].isdigit():
            groups.setdefault(f[0], int(f[2]))
    u_part, _, g_part = image_user.partition(":")
    img_uid, img_gid = 0, 0
    if u_part:
        if u_part.isdigit():
            img_uid = int(u_part)
            img_gid = next((g for (x, g) in users.values() if x == img_uid), 0)
        elif u_part in users:
            img_uid, img_gid = users[u_part]
        elif uid is None:
            raise ValueError("unable to find user %s: no matching entries in passwd file" % u_part)
    if g_part:
        if g_part.isdigit():
            img_gid = int(g_part)
        elif g_part in groups:
            img_gid = groups[g_part]
        elif gid is None:
            raise ValueError("unable to find group %s: no matching entries in group file" % g_part)
    final_uid = img_uid if uid is None else uid
    if gid is not None:
        final_gid = gid
    elif uid is not None:
        final_gid = next((g for (x, g) in users.values() if x == uid), 0) if not g_part else img_gid
    else:
        final_gid = img_gid
    return final_uid, final_gid
