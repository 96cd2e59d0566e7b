"""Pod volumes under <state_dir>/pods/<uid>/volumes/<name>, and the mounts containers get.

Why two layers: which files a configMap/secret/downwardAPI volume holds (path -> bytes,
mode) and what a hostPath type check decides are pure functions, tested with data files;
writing them is a thin layer that does what the kubelet's atomic writer does: the files go
into a fresh hidden directory ``..<stamp>``, ``..data`` is a symlink swapped to it by one
rename, and each top-level name is a symlink through ``..data``. So a container sees an
updated ConfigMap appear in place, all keys at once, never half-written. Secrets (and
emptyDir medium Memory) live on a tmpfs so they never touch the disk. A
persistentVolumeClaim volume is its volume's directory on this node (localvolumes.py),
outside the pod's directory, so its data outlives the pod.
"""

import os
import shutil
import stat as statmod
import subprocess
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

from . import env as envmod
from . import localvolumes
from .driver import Mount

Obj = Dict[str, Any]

DEFAULT_MODE = 0o644
SECRET_KINDS = ("secret",)
#: The volume kinds whose content is written by the agent (and updated in place).
FILE_KINDS = ("configMap", "secret", "downwardAPI", "projected")


class VolumeError(Exception):
    """A volume could not be set up (FailedMount); the message says why, as Kubernetes does."""


class FileEntry(NamedTuple):
    data: bytes
    mode: int


def volume_kind(volume: Obj) -> str:
    for kind in ("emptyDir", "hostPath", "configMap", "secret", "downwardAPI", "projected", "persistentVolumeClaim"):
        if kind in volume:
            return kind
    return ""


def _mode(value: Any, default: int) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else default


def _items(source: Obj, content: Dict[str, bytes], kind: str, default_mode: int) -> Dict[str, FileEntry]:
    """configMap/secret keys (or the listed items) as files; a missing listed key is an error."""
    out = {}  # type: Dict[str, FileEntry]
    items = source.get("items")
    if not items:
        for key in sorted(content):
            out[key] = FileEntry(content[key], default_mode)
        return out
    for item in items:
        key = item.get("key", "")
        if key not in content:
            if source.get("optional"):
                continue
            raise VolumeError("%s references non-existent %s key: %s" % (kind.lower(), "config" if kind == "ConfigMap" else "secret", key))
        out[item.get("path") or key] = FileEntry(content[key], _mode(item.get("mode"), default_mode))
    return out


def _downward(pod: Obj, source: Obj, default_mode: int, pod_ip: str, host_ip: str) -> Dict[str, FileEntry]:
    out = {}  # type: Dict[str, FileEntry]
    for item in source.get("items") or []:
        path = item.get("path", "")
        if "fieldRef" in item:
            try:
                text = envmod.field_value(pod, (item["fieldRef"] or {}).get("fieldPath", ""), pod_ip, host_ip)
            except envmod.ConfigError as exc:
                raise VolumeError(str(exc))
        elif "resourceFieldRef" in item:
            ref = item["resourceFieldRef"] or {}
            containers = {c.get("name"): c for c in (pod.get("spec") or {}).get("containers") or []}
            text = envmod._resource_value(containers.get(ref.get("containerName"), {}), ref)
        else:
            continue
        out[path] = FileEntry(text.encode("utf-8"), _mode(item.get("mode"), default_mode))
    return out


def file_set(
    pod: Obj,
    volume: Obj,
    configmaps: Dict[str, Obj],
    secrets: Dict[str, Obj],
    pod_ip: str = "",
    host_ip: str = "",
) -> Dict[str, FileEntry]:
    """The files a configMap/secret/downwardAPI/projected volume holds. Pure.

    A missing ConfigMap/Secret is an error unless the volume says optional (then empty).
    """
    kind = volume_kind(volume)
    source = volume.get(kind) or {}
    default_mode = _mode(source.get("defaultMode"), DEFAULT_MODE)
    if kind == "configMap":
        cm = configmaps.get(source.get("name", ""))
        if cm is None:
            if source.get("optional"):
                return {}
            raise VolumeError('configmap "%s" not found' % source.get("name", ""))
        return _items(source, envmod.configmap_items(cm), "ConfigMap", default_mode)
    if kind == "secret":
        secret = secrets.get(source.get("secretName", ""))
        if secret is None:
            if source.get("optional"):
                return {}
            raise VolumeError('secret "%s" not found' % source.get("secretName", ""))
        return _items(source, envmod.secret_items(secret), "Secret", default_mode)
    if kind == "downwardAPI":
        return _downward(pod, source, default_mode, pod_ip, host_ip)
    if kind == "projected":
        out = {}  # type: Dict[str, FileEntry]
        for part in source.get("sources") or []:
            for sub in ("configMap", "secret", "downwardAPI"):
                if sub in part:
                    inner = dict(part[sub] or {})
                    inner.setdefault("defaultMode", default_mode)
                    if sub == "secret":
                        inner.setdefault("secretName", inner.get("name", ""))
                    out.update(file_set(pod, {sub: inner}, configmaps, secrets, pod_ip, host_ip))
        return out
    return {}


def on_tmpfs(volume: Obj) -> bool:
    """Secrets always, emptyDir only with medium Memory."""
    kind = volume_kind(volume)
    if kind == "secret":
        return True
    if kind == "projected":
        return any("secret" in p for p in (volume.get("projected") or {}).get("sources") or [])
    return kind == "emptyDir" and (volume.get("emptyDir") or {}).get("medium") == "Memory"


def tmpfs_options(volume: Obj) -> str:
    """mount -o for the tmpfs: mode 0777 for emptyDir (as Kubernetes), size from sizeLimit."""
    opts = ["mode=0755"] if volume_kind(volume) != "emptyDir" else ["mode=0777"]
    size = (volume.get("emptyDir") or {}).get("sizeLimit")
    if size:
        opts.append("size=%s" % _tmpfs_size(str(size)))
    return ",".join(opts)


def _tmpfs_size(quantity: str) -> str:
    """A Kubernetes quantity (64Mi, 1G, 500M) as a tmpfs size (bytes, k, m, g suffixes)."""
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 1000, "K": 1000, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12}
    for suffix in sorted(units, key=len, reverse=True):
        if quantity.endswith(suffix):
            try:
                return str(int(float(quantity[: -len(suffix)]) * units[suffix]))
            except ValueError:
                break
    return quantity


# -- hostPath type checks (pure: the caller stats the path) ------------------------------

class HostPathDecision(NamedTuple):
    create: str  # "" | "directory" | "file"
    error: str  # "" when fine


def check_host_path(path: str, path_type: str, mode: Optional[int]) -> HostPathDecision:
    """Kubernetes' hostPath type check; ``mode`` is st_mode or None when the path is absent."""
    what = {
        "Directory": ("directory", statmod.S_ISDIR),
        "File": ("file", statmod.S_ISREG),
        "Socket": ("socket file", statmod.S_ISSOCK),
        "CharDevice": ("character device", statmod.S_ISCHR),
        "BlockDevice": ("block device", statmod.S_ISBLK),
    }
    if not path_type:
        return HostPathDecision("", "")
    if path_type == "DirectoryOrCreate":
        if mode is None:
            return HostPathDecision("directory", "")
        return HostPathDecision("", "" if statmod.S_ISDIR(mode) else "hostPath type check failed: %s is not a directory" % path)
    if path_type == "FileOrCreate":
        if mode is None:
            return HostPathDecision("file", "")
        ok = not statmod.S_ISDIR(mode)
        return HostPathDecision("", "" if ok else "hostPath type check failed: %s is not a file" % path)
    if path_type not in what:
        return HostPathDecision("", "hostPath type %s is not supported" % path_type)
    name, test = what[path_type]
    if mode is None or not test(mode):
        return HostPathDecision("", "hostPath type check failed: %s is not a %s" % (path, name))
    return HostPathDecision("", "")


# -- mounts ----------------------------------------------------------------------------

def pod_dir(state_dir: str, uid: str) -> str:
    return os.path.join(state_dir, "pods", uid)


def volume_dir(state_dir: str, uid: str, name: str) -> str:
    return os.path.join(pod_dir(state_dir, uid), "volumes", name)


#: claim name -> its directory on this node, or the ClaimError saying why it has none
ClaimPaths = Dict[str, str]


def claim_of(volume: Obj) -> str:
    return str((volume.get("persistentVolumeClaim") or {}).get("claimName") or "")


def host_source(state_dir: str, uid: str, volume: Obj, claims: Optional[ClaimPaths] = None) -> str:
    """Where a volume lives on the host (hostPath: the path itself; a claim: its volume's
    directory, from ``claims``)."""
    kind = volume_kind(volume)
    if kind == "hostPath":
        return str((volume.get("hostPath") or {}).get("path", ""))
    if kind == "persistentVolumeClaim":
        path = (claims or {}).get(claim_of(volume))
        if not path or not path.startswith("/"):
            raise VolumeError(path or 'persistentvolumeclaim "%s" not found' % claim_of(volume))
        return path
    return volume_dir(state_dir, uid, volume.get("name", ""))


def claim_paths(pod: Obj, claims: Dict[str, Obj], volumes: Dict[str, Obj], node: str) -> ClaimPaths:
    """Each claim the pod mounts -> its directory here, or (not starting with /) why not."""
    out = {}  # type: ClaimPaths
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        name = claim_of(volume)
        if not name:
            continue
        try:
            out[name] = localvolumes.claim_path(name, claims, volumes, node)
        except localvolumes.ClaimError as exc:
            out[name] = str(exc)
    return out


def container_mounts(state_dir: str, pod: Obj, container: Obj, claims: Optional[ClaimPaths] = None) -> List[Mount]:
    """volumeMounts as driver Mounts (subPath appended; file volumes always read-only). Pure.

    A mount of a volume the pod does not declare raises VolumeError.
    """
    uid = (pod.get("metadata") or {}).get("uid", "")
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    out = []  # type: List[Mount]
    for vm in container.get("volumeMounts") or []:
        volume = volumes.get(vm.get("name"))
        if volume is None:
            raise VolumeError('volume "%s" not found in the pod' % vm.get("name"))
        source = host_source(state_dir, uid, volume, claims)
        sub = str(vm.get("subPath") or "").strip("/")
        if sub:
            if ".." in sub.split("/"):
                raise VolumeError("subPath %s must not contain '..'" % sub)
            source = os.path.join(source, sub)
        read_only = (
            bool(vm.get("readOnly"))
            or volume_kind(volume) in FILE_KINDS
            or bool((volume.get("persistentVolumeClaim") or {}).get("readOnly"))
        )
        out.append(Mount(source, str(vm.get("mountPath", "")), read_only))
    return out


# -- side effects ----------------------------------------------------------------------

Runner = Callable[[List[str]], None]


def _run(argv: List[str]) -> None:
    subprocess.check_call(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ensure_tmpfs(path: str, options: str, run: Runner = _run) -> None:
    """Mount a tmpfs on path unless one is already there."""
    os.makedirs(path, exist_ok=True)
    if not os.path.ismount(path):
        run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path])


def write_atomic(target: str, files: Dict[str, FileEntry], stamp: str) -> bool:
    """The kubelet's atomic writer: ..<stamp>/ with the files, ..data swapped, top links.

    Returns False (and writes nothing) when the content is already what ``files`` says.
    """
    os.makedirs(target, exist_ok=True)
    data_link = os.path.join(target, "..data")
    if os.path.islink(data_link) and _same_content(data_link, files):
        return False
    new_dir = os.path.join(target, "..%s" % stamp)
    if os.path.exists(new_dir):
        shutil.rmtree(new_dir)
    os.makedirs(new_dir)
    for rel, entry in files.items():
        dest = os.path.join(new_dir, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(entry.data)
        os.chmod(dest, entry.mode & 0o7777)
    old = os.readlink(data_link) if os.path.islink(data_link) else ""
    tmp_link = os.path.join(target, "..data_tmp")
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(os.path.basename(new_dir), tmp_link)
    os.rename(tmp_link, data_link)
    tops = {rel.split("/", 1)[0] for rel in files}
    for name in os.listdir(target):
        full = os.path.join(target, name)
        if name.startswith(".."):
            continue
        if name not in tops and os.path.islink(full):
            os.unlink(full)
    for name in tops:
        full = os.path.join(target, name)
        if not os.path.lexists(full):
            os.symlink(os.path.join("..data", name), full)
    if old and old != os.path.basename(new_dir):
        shutil.rmtree(os.path.join(target, old), ignore_errors=True)
    return True


def _same_content(data_link: str, files: Dict[str, FileEntry]) -> bool:
    root = os.path.realpath(data_link)
    seen = set()
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            full = os.path.join(dirpath, name)
            seen.add(os.path.relpath(full, root))
    if seen != set(files):
        return False
    for rel, entry in files.items():
        full = os.path.join(root, rel)
        try:
            st = os.stat(full)
            with open(full, "rb") as f:
                if f.read() != entry.data or statmod.S_IMODE(st.st_mode) != entry.mode & 0o7777:
                    return False
        except OSError:
            return False
    return True


def setup_volume(
    state_dir: str,
    pod: Obj,
    volume: Obj,
    configmaps: Dict[str, Obj],
    secrets: Dict[str, Obj],
    stamp: str,
    pod_ip: str = "",
    host_ip: str = "",
    run: Runner = _run,
    claims: Optional[ClaimPaths] = None,
) -> bool:
    """Make one volume real (idempotent); True when files changed. VolumeError on failure."""
    uid = (pod.get("metadata") or {}).get("uid", "")
    kind = volume_kind(volume)
    path = host_source(state_dir, uid, volume, claims)
    if kind == "persistentVolumeClaim":
        localvolumes.ensure_dir(path)
        return False
    if kind == "hostPath":
        source = volume.get("hostPath") or {}
        try:
            mode = os.stat(path).st_mode  # type: Optional[int]
        except OSError:
            mode = None
        decision = check_host_path(path, str(source.get("type") or ""), mode)
        if decision.error:
            raise VolumeError(decision.error)
        if decision.create == "directory":
            os.makedirs(path, 0o755, exist_ok=True)
        elif decision.create == "file":
            if not os.path.isdir(os.path.dirname(path) or "/"):
                raise VolumeError("hostPath type check failed: parent of %s does not exist" % path)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        return False
    if on_tmpfs(volume):
        try:
            ensure_tmpfs(path, tmpfs_options(volume), run)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise VolumeError("mounting tmpfs on %s: %s" % (path, exc))
    else:
        os.makedirs(path, exist_ok=True)
    if kind == "emptyDir":
        os.chmod(path, 0o777)
        return False
    if kind in FILE_KINDS:
        files = file_set(pod, volume, configmaps, secrets, pod_ip, host_ip)
        return write_atomic(path, files, stamp)
    return False


def teardown(state_dir: str, uid: str, run: Runner = _run) -> None:
    """Unmount every tmpfs of the pod and remove its volumes (gone already is fine)."""
    base = os.path.join(pod_dir(state_dir, uid), "volumes")
    if os.path.isdir(base):
        for name in os.listdir(base):
            full = os.path.join(base, name)
            if os.path.ismount(full):
                try:
                    run(["umount", "-l", full])
                except (OSError, subprocess.CalledProcessError):
                    pass
    shutil.rmtree(base, ignore_errors=True)
    try:
        os.rmdir(pod_dir(state_dir, uid))  # only when empty: the driver keeps its own files there
    except OSError:
        pass
