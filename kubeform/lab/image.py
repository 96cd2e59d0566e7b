"""The lab's shared base image: a debootstrapped Debian 12 every host overlays.

Built once (about a minute) and cached with a stamp that records what went in, so a
changed package list or recipe rebuilds and an unchanged one is reused. The build goes
into a temporary directory that is renamed into place only when complete, so an
interrupted build never leaves a half image behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from kubeform.errors import UserError
from kubeform.lab.plan import LAB_ROOT

RECIPE_VERSION = 3  # bump when customize() changes what the image contains
DEFAULT_MIRROR = "http://deb.debian.org/debian"

PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "iproute2",
    "iptables",
    "ipvsadm",
    "conntrack",
    "etcd-server",
    "etcd-client",
    "crun",
    "busybox-static",
    "ca-certificates",
    "kmod",
    "procps",
    "sudo",
    "iputils-ping",
    # the node runtime (issue 8): CNI plugins, OCI image tools, both runtimes, the registry
    "containernetworking-plugins",
    "umoci",
    "skopeo",
    "docker.io",
    "docker-registry",
    "dnsmasq-base",
    "curl",
)

# Units that would slow a lab host's boot or that kubeform runs itself (etcd).
DISABLED_UNITS: tuple[str, ...] = (
    "etcd.service",
    "e2scrub_reap.service",
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "fstrim.timer",
    "getty@tty1.service",
    # started by `kubeform up` where the inventory asks for them, never on boot
    "docker.service",
    "docker.socket",
    "containerd.service",
    "docker-registry.service",
)


@dataclass(frozen=True)
class ImageSpec:
    """What goes into a base image; its stamp is exactly this."""

    suite: str = "bookworm"
    variant: str = "minbase"
    packages: tuple[str, ...] = field(default=PACKAGES)
    recipe: int = RECIPE_VERSION

    @property
    def path(self) -> str:
        return f"{LAB_ROOT}/base-{self.suite}"


def stamp_text(spec: ImageSpec) -> str:
    """The stamp file's content: the recipe, so a different one means a rebuild."""
    return json.dumps(
        {
            "suite": spec.suite,
            "variant": spec.variant,
            "packages": sorted(spec.packages),
            "recipe": spec.recipe,
        },
        indent=2,
        sort_keys=True,
    ) + "\n"


def needs_build(existing_stamp: str | None, spec: ImageSpec, rebuild: bool) -> bool:
    """Build when asked, when there is no image, or when it was built from another recipe."""
    if rebuild or existing_stamp is None:
        return True
    try:
        return bool(json.loads(existing_stamp) != json.loads(stamp_text(spec)))
    except ValueError:
        return True


def debootstrap_argv(spec: ImageSpec, target: str, mirror: str) -> list[str]:
    """The debootstrap command for the image."""
    return [
        "debootstrap",
        f"--variant={spec.variant}",
        f"--include={','.join(spec.packages)}",
        spec.suite,
        target,
        mirror,
    ]


def stamp_path(spec: ImageSpec) -> Path:
    return Path(spec.path) / ".kubeform-image"


def read_stamp(spec: ImageSpec) -> str | None:
    try:
        return stamp_path(spec).read_text()
    except OSError:
        return None


def _progress_label(line: str, count: int) -> str:
    """A short status for the spinner from one debootstrap output line."""
    text = line.removeprefix("I: ").strip().rstrip(".")
    return f"base image: {text[:60]} ({count} steps)"


def _run_debootstrap(argv: Sequence[str], log_path: Path, console: Console) -> None:
    """Run debootstrap with a live spinner; its full output goes to a log file."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with log_path.open("w") as log, Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("base image: starting debootstrap", total=None)
        proc = subprocess.Popen(
            list(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        count = 0
        for line in proc.stdout:
            log.write(line)
            if line.startswith("I: "):
                count += 1
                bar.update(task, description=_progress_label(line, count))
        rc = proc.wait()
    if rc != 0:
        tail = log_path.read_text().strip().splitlines()[-1:] or [""]
        raise UserError(
            f"debootstrap failed (exit {rc}): {tail[0]}",
            hint=f"see {log_path}; the Debian mirror must be reachable",
        )


def customize(root: Path, spec: ImageSpec) -> None:
    """Make the image a neutral base: no host identity, no etcd or timers on boot."""
    for unit in DISABLED_UNITS:
        subprocess.run(
            ["systemctl", f"--root={root}", "disable", unit],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    wants = root / "etc/systemd/system/multi-user.target.wants/etcd.service"
    if wants.exists() or wants.is_symlink():
        wants.unlink()
    # Lab hosts share the machine's kernel and have no /lib/modules: loading modules is
    # the machine's business, and the unit only fails early in a container's boot.
    dropin = root / "etc/systemd/system/systemd-modules-load.service.d/kubeform-lab.conf"
    dropin.parent.mkdir(parents=True, exist_ok=True)
    dropin.write_text("[Unit]\nConditionVirtualization=!container\n")
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    for deb in (root / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    stamp = root / ".kubeform-image"
    stamp.write_text(stamp_text(spec))


def _remove_tree(path: Path) -> None:
    """Remove a (partial) image; debootstrap may have left /proc or /sys mounted in it."""
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mounts") as f:
        mounts = [line.split()[1] for line in f if len(line.split()) > 1]
    for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
    shutil.rmtree(path, ignore_errors=True)


def ensure_image(
    spec: ImageSpec, *, rebuild: bool, console: Console, mirror: str | None = None
) -> bool:
    """Build the base image unless a matching one is cached; True when it was built."""
    if not needs_build(read_stamp(spec), spec, rebuild):
        return False
    parent = Path(spec.path).parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".base-{spec.suite}.*"):
        _remove_tree(stale)
    tmp = parent / f".base-{spec.suite}.tmp-{os.getpid()}"
    log_path = parent / f"base-{spec.suite}.log"
    mirror = mirror or os.environ.get("KUBEFORM_LAB_MIRROR") or DEFAULT_MIRROR
    started = time.monotonic()
    console.print(f"building the lab base image ({spec.suite}, once; log: {log_path})")
    try:
        _run_debootstrap(debootstrap_argv(spec, str(tmp), mirror), log_path, console)
        customize(tmp, spec)
        final = Path(spec.path)
        old = parent / f".base-{spec.suite}.old-{os.getpid()}"
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        _remove_tree(old)
    finally:
        _remove_tree(tmp)
    console.print(f"base image ready in {time.monotonic() - started:.0f} s: {spec.path}")
    return True
