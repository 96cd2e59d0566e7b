"""kernel (kubeform's own): make the host run a kernel of at least ``min_version``.

The overlay and ipvs need Linux >= 4.4; CentOS 7 ships 3.10. On EL7 the plan installs
elrepo's ``kernel-lt`` (or a copied RPM, offline), makes it grub's default, reboots
through the shared ``Reboot`` step and verifies ``uname -r`` afterwards. Every step is
planned from the host's state, so a run interrupted anywhere resumes where it stopped
(repository there, kernel there, default set, only the reboot missing).

A container (the lab, docker) cannot boot another kernel: there the module only checks
and fails with a clear message. EL8/9 and Debian kernels are already new enough.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kubeform.modules._el import DETECT_CONTAINER, HostUnfit, container_kind, parse_os_release
from kubeform.modules._el import sections as split_sections
from kubeform.modules._pkg import rpm_vercmp
from kubeform.modules.base import (
    Change,
    Diff,
    Fact,
    Module,
    ModuleArgError,
    Run,
    Step,
    StepContext,
    StepResult,
)
from kubeform.modules.reboot import DEFAULT_TIMEOUT, Reboot

ELREPO_KEY = "https://www.elrepo.org/RPM-GPG-KEY-elrepo.org"
ELREPO_KEY_V2 = "https://www.elrepo.org/RPM-GPG-KEY-v2-elrepo.org"
EL_IDS = {"rhel", "centos", "rocky", "almalinux", "ol", "fedora", "scientific"}
# The newest installed kernel image, for when its version is only known after install.
NEWEST_VMLINUZ = "$(ls /boot/vmlinuz-* | grep -v rescue | sort -V | tail -n 1)"
GRUB_MKCONFIG = (
    "cfg=$(readlink -f /etc/grub2-efi.cfg 2>/dev/null); "
    '[ -f "$cfg" ] || cfg=/boot/grub2/grub.cfg; grub2-mkconfig -o "$cfg"'
)
_LEADING = re.compile(r"^(\d+(?:\.\d+)*)")


def kernel_version(release: str) -> tuple[int, ...]:
    """The numeric head of a kernel release: ``5.4.270-1.el7...`` -> ``(5, 4, 270)``."""
    match = _LEADING.match(release.strip())
    if not match:
        raise ValueError(f"not a kernel version: {release!r}")
    return tuple(int(p) for p in match.group(1).split("."))


def at_least(release: str, minimum: str) -> bool:
    """Whether kernel ``release`` is ``minimum`` or newer (missing parts count as 0)."""
    have, want = kernel_version(release), kernel_version(minimum)
    width = max(len(have), len(want))
    return have + (0,) * (width - len(have)) >= want + (0,) * (width - len(want))


@dataclass
class KernelFacts:
    """What the plan needs to know about the host's kernels and boot loader."""

    running: str = ""
    os: dict[str, str] = field(default_factory=dict)
    container: str | None = None
    installed: list[tuple[str, str]] = field(default_factory=list)  # (package, release)
    elrepo_release: bool = False
    default: str = ""  # release grub boots by default ("" when unknown)
    menu: list[str] = field(default_factory=list)

    @property
    def is_el(self) -> bool:
        ids = {self.os.get("ID", "")} | set(self.os.get("ID_LIKE", "").split())
        return bool(ids & EL_IDS)

    @property
    def major(self) -> int:
        head = self.os.get("VERSION_ID", "0").split(".")[0]
        return int(head) if head.isdigit() else 0


def parse_kernel_facts(stdout: str, rc: int) -> KernelFacts:
    """Parse the sections of ``KERNEL_PROBE``."""
    parts = split_sections(stdout)
    facts = KernelFacts(
        running=parts.get("uname", "").strip(),
        os=parse_os_release(parts.get("os-release", "")),
        container=container_kind(parts.get("container", "")),
    )
    for line in parts.get("kernels", "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0].startswith("kernel"):
            facts.installed.append((words[0], words[1]))
    facts.elrepo_release = any(
        line.startswith("elrepo-release") for line in parts.get("elrepo", "").splitlines()
    )
    default = parts.get("default", "").strip()
    facts.default = default.removeprefix("/boot/vmlinuz-") if "vmlinuz-" in default else ""
    facts.menu = [m for m in parts.get("menu", "").splitlines() if m.strip()]
    return facts


KERNEL_PROBE = "; ".join(
    [
        "echo '== uname'; uname -r",
        "echo '== os-release'; cat /etc/os-release 2>/dev/null",
        f"echo '== container'; {DETECT_CONTAINER}",
        "echo '== kernels'; command -v rpm >/dev/null 2>&1 && "
        "rpm -q --qf '%{NAME} %{VERSION}-%{RELEASE}.%{ARCH}\\n' kernel kernel-lt kernel-ml "
        "2>/dev/null | grep -v 'not installed'",
        "echo '== elrepo'; rpm -q elrepo-release 2>/dev/null",
        "echo '== default'; grubby --default-kernel 2>/dev/null",
        "echo '== menu'; awk -F\\' '$1==\"menuentry \" {print $2}' /etc/grub2.cfg 2>/dev/null",
        "true",
    ]
)


@dataclass(frozen=True)
class VerifyKernel(Step):
    """After the reboot: fail clearly unless the running kernel is new enough."""

    min_version: str

    def describe(self) -> str:
        return f"verify uname -r >= {self.min_version}"

    def execute(self, ctx: StepContext) -> StepResult:
        res = ctx.conn.run("uname -r", become=False)
        release = res.stdout.strip()
        if res.rc == 0 and _LEADING.match(release) and at_least(release, self.min_version):
            return StepResult(stdout=res.stdout, extra={"kernel": release})
        return StepResult(
            rc=1,
            stdout=res.stdout,
            stderr=(
                f"after the reboot the host runs kernel {release or '?'}, older than "
                f"{self.min_version}: grub did not boot the new kernel "
                "(check `grubby --default-kernel` and the console)"
            ),
        )


def _newest(releases: list[str]) -> str:
    best = releases[0]
    for rel in releases[1:]:
        if rpm_vercmp(rel, best) > 0:
            best = rel
    return best


class Kernel(Module):
    """Ensure a minimum kernel version (elrepo kernel-lt or a given RPM on EL hosts)."""

    name: ClassVar[str] = "kernel"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "min_version": {"type": ["string", "number"], "pattern": r"^\d+(\.\d+)*$"},
            "source": {"enum": ["elrepo", "rpm", "none"]},
            "package": {"enum": ["kernel-lt", "kernel-ml"]},
            "rpm": {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"type": "array", "items": {"type": "string", "minLength": 1}},
                ]
            },
            "elrepo_release": {"type": "string", "minLength": 1},
            "elrepo_key": {"type": "string", "minLength": 1},
            "reboot": {"type": "boolean"},
            "reboot_timeout": {"type": "integer", "minimum": 1},
        },
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [Fact("kernel", KERNEL_PROBE, parse_kernel_facts)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        f: KernelFacts = facts["kernel"]
        minimum = str(args.get("min_version", "4.4"))
        source = str(args.get("source", "elrepo"))
        rpms = args.get("rpm")
        if source == "rpm" and not rpms:
            raise ModuleArgError("source: rpm needs rpm: <path or URL of the kernel RPM>", "rpm")
        if not _LEADING.match(f.running):
            raise HostUnfit(f"cannot read the running kernel version (uname -r: {f.running!r})")
        if at_least(f.running, minimum):
            return []
        if f.container:
            raise HostUnfit(
                f"the running kernel {f.running} is older than {minimum}, and this host is a "
                f"{f.container} container: it runs the machine's kernel; upgrade that machine"
            )
        if source == "none":
            raise HostUnfit(
                f"the running kernel {f.running} is older than {minimum} and source is none: "
                "install a newer kernel, or set source: elrepo or rpm"
            )
        if not f.is_el:
            raise HostUnfit(
                f"the running kernel {f.running} is older than {minimum}: kubeform installs "
                "kernels on EL hosts only; upgrade it with the distribution's packages"
            )
        mgr = "yum" if f.major and f.major < 8 else "dnf"
        package = str(args.get("package", "kernel-lt"))
        reboot = bool(args.get("reboot", True))
        ready = [rel for _, rel in f.installed if at_least(rel, minimum)]
        target = _newest(ready) if ready else None
        changes: list[Change] = []
        if target is None:
            if source == "elrepo":
                changes += self._elrepo(args, f, mgr)
                install = f"{mgr} --enablerepo=elrepo-kernel install -y {package}"
                label = package
            else:
                files = [rpms] if isinstance(rpms, str) else list(rpms or [])
                install = f"{mgr} install -y " + " ".join(shlex.quote(str(p)) for p in files)
                label = ", ".join(str(p).rsplit("/", 1)[-1] for p in files)
            changes.append(
                Change(
                    "add",
                    f"install kernel {label}",
                    (Run(install),),
                    Diff("kernel installed", f.running, f"{package} (>= {minimum})"),
                )
            )
        later = "" if reboot else " (reboot required)"
        if target is None or f.default != target:
            vmlinuz = f"/boot/vmlinuz-{target}" if target else NEWEST_VMLINUZ
            changes.append(
                Change(
                    "change",
                    f"boot {target or 'the new kernel'} by default{later}",
                    (Run(GRUB_MKCONFIG), Run(f'grubby --set-default "{vmlinuz}"')),
                    Diff("grub default kernel", f.default or "unknown", target or "newest"),
                )
            )
        if reboot:
            timeout = float(args.get("reboot_timeout", DEFAULT_TIMEOUT))
            changes.append(
                Change(
                    "change",
                    f"reboot into kernel {target or 'the new kernel'}",
                    (
                        Reboot(reboot_timeout=timeout, msg="kubeform: rebooting into a new kernel"),
                        VerifyKernel(minimum),
                    ),
                    Diff("running kernel", f.running, target or f">= {minimum}"),
                )
            )
        return changes

    def _elrepo(self, args: Mapping[str, Any], f: KernelFacts, mgr: str) -> list[Change]:
        if f.elrepo_release:
            return []
        major = f.major or 7
        key = str(args.get("elrepo_key") or (ELREPO_KEY_V2 if major >= 9 else ELREPO_KEY))
        release = str(
            args.get("elrepo_release")
            or f"https://www.elrepo.org/elrepo-release-{major}.el{major}.elrepo.noarch.rpm"
        )
        return [
            Change(
                "add",
                "install the elrepo repository",
                (
                    Run(f"rpm --import {shlex.quote(key)}"),
                    Run(f"{mgr} install -y {shlex.quote(release)}"),
                ),
            )
        ]

    def result(
        self, args: Mapping[str, Any], facts: Mapping[str, Any], steps: list[StepResult]
    ) -> dict[str, Any]:
        f = facts.get("kernel")
        if not isinstance(f, KernelFacts):
            return {}
        minimum = str(args.get("min_version", "4.4"))
        kernel = next((s.extra["kernel"] for s in steps if "kernel" in s.extra), f.running)
        return {"kernel": kernel, "reboot_required": not at_least(kernel, minimum)}
