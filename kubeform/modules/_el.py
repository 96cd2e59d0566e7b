"""Shared pieces of the host-preparation modules: host-state failures, os-release, containers.

Several modules (kernel, selinux, firewalld, package) must refuse a host that cannot be
brought to the requested state (a container cannot boot another kernel); they raise
``HostUnfit`` from ``plan`` so plan mode reports it before anything is applied.
"""

from __future__ import annotations

import shlex

from kubeform.modules.base import ModuleArgError


class HostUnfit(ModuleArgError):
    """The host cannot reach the requested state; the message says why and what to do."""


def parse_os_release(text: str) -> dict[str, str]:
    """``/etc/os-release`` as a dict (shell quoting removed), e.g. ``{"ID": "centos"}``."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value.strip("\"'")]
        out[key.strip()] = words[0] if words else ""
    return out


def sections(text: str, marker: str = "== ") -> dict[str, str]:
    """Split the output of a batched probe into its ``== name`` sections."""
    out: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith(marker):
            if current is not None:
                out[current] = "\n".join(lines)
            current, lines = line[len(marker) :].strip(), []
        elif current is not None:
            lines.append(line)
    if current is not None:
        out[current] = "\n".join(lines)
    return out


# systemd-detect-virt --container prints "none" outside containers; /run/systemd/container
# holds the manager's name inside nspawn, docker (when systemd runs) and lxc.
DETECT_CONTAINER = (
    "systemd-detect-virt --container 2>/dev/null || "
    "cat /run/systemd/container 2>/dev/null || "
    "{ test -e /.dockerenv && echo docker; } || echo none"
)


def container_kind(output: str) -> str | None:
    """The container technology from ``DETECT_CONTAINER``'s output, or None on a VM/metal."""
    for line in output.splitlines():
        word = line.strip()
        if word and word != "none":
            return word
    return None
