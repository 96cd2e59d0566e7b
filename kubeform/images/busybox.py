"""A busybox image made from the operator's own busybox-static, for clusters without internet.

Why: the examples and the demo need a small image that runs a shell, a web server
(``httpd -f``), ``nc`` and ``sleep``; Debian's busybox-static is one static binary, so one
layer holding it and its applet links is a complete image. Reproducible: the same binary
gives the same digest (see oci.py).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kubeform.errors import UserError
from kubeform.images import mediatypes
from kubeform.images.oci import BuiltImage, Entry, digest_of, tar_bytes

BUSYBOX = "/bin/busybox"
CREATED = "1970-01-01T00:00:00Z"  # oci.EPOCH, as the layer's mtimes
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Applets linked when the binary cannot be asked for its list (the ones examples use).
BASIC_APPLETS = (
    "cat", "cp", "date", "echo", "env", "grep", "hostname", "httpd", "id", "ls", "mkdir",
    "nc", "ping", "ps", "rm", "sh", "sleep", "tail", "test", "touch", "true", "false", "wget",
)
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\nnobody:x:65534:\n"
INDEX_HTML = "<html><body><h1>busybox httpd on kubeform</h1></body></html>\n"


def applets_of(binary: str) -> list[str]:
    """The applets the binary was built with (``busybox --list``)."""
    try:
        out = subprocess.run([binary, "--list"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return sorted(BASIC_APPLETS)
    return sorted({a.strip() for a in out.split() if a.strip() and a.strip() != "busybox"})


def version_of(binary: str) -> str:
    """``BusyBox v1.35.0 (Debian ...)`` from the binary's banner, for the image history."""
    try:
        out = subprocess.run([binary], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "BusyBox"
    first = out.splitlines()[0] if out else "BusyBox"
    return first.split(" multi-call")[0].strip()


def rootfs_entries(busybox: bytes, applets: Sequence[str]) -> list[Entry]:
    """The image's one layer: /bin/busybox, a link per applet, /etc users, /tmp, /var/www."""
    entries = [
        Entry("bin", 0o755),
        Entry("bin/busybox", 0o755, busybox),
        *[Entry(f"bin/{a}", 0o777, link="busybox") for a in sorted(set(applets)) if a not in ("", "busybox")],
        Entry("etc", 0o755),
        Entry("etc/group", 0o644, GROUP.encode()),
        Entry("etc/passwd", 0o644, PASSWD.encode()),
        Entry("root", 0o700),
        Entry("tmp", 0o1777),
        Entry("usr", 0o755),
        Entry("usr/bin", 0o755),
        Entry("usr/bin/env", 0o777, link="../../bin/busybox"),
        Entry("var", 0o755),
        Entry("var/www", 0o755),
        Entry("var/www/index.html", 0o644, INDEX_HTML.encode()),
    ]
    return entries


def build(busybox: bytes, applets: Sequence[str], *, arch: str, version: str = "BusyBox") -> BuiltImage:
    """The whole image in memory (pure: the same arguments give the same digest)."""
    layer = tar_bytes(rootfs_entries(busybox, applets))
    config = {
        "created": CREATED,
        "architecture": arch,
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
        "history": [{"created": CREATED, "created_by": f"kubeform image make busybox ({version})"}],
    }
    raw = json.dumps(config, separators=(",", ":")).encode()
    return BuiltImage(raw, [layer], [mediatypes.OCI_LAYER])


def build_from_host(binary: str = BUSYBOX, *, arch: str) -> BuiltImage:
    """The image from this machine's busybox-static; a clear error when it is missing."""
    path = Path(binary)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserError(
            f"cannot read {binary}: {err.strerror}",
            hint="install Debian's busybox-static (apt-get install busybox-static)",
        ) from None
    if _is_dynamic(data):
        raise UserError(
            f"{binary} is linked dynamically; the image needs a static busybox",
            hint="install busybox-static (apt-get install busybox-static), or pass --busybox PATH",
        )
    return build(data, applets_of(binary), arch=arch, version=version_of(binary))


def _is_dynamic(elf: bytes) -> bool:
    """Whether an ELF file has an interpreter (PT_INTERP), i.e. needs a dynamic loader."""
    return b"/lib64/ld-linux" in elf[:8192] or b"/lib/ld-linux" in elf[:8192] or b"/lib/ld-musl" in elf[:8192]
