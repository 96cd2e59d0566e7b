"""kernel_module (Ansible's community.general.modprobe): load, unload, persist a module.

"Loaded" means listed in /proc/modules or built into the kernel (``/sys/module/<name>``
or an entry of ``modules.builtin``), so a built-in br_netfilter is never "loaded" again.
``persistent: present`` writes ``/etc/modules-load.d/<name>.conf`` (and, with params,
``/etc/modprobe.d/<name>.conf`` with ``options <name> <params>``); ``absent`` removes
both; ``disabled`` (default) leaves them alone.

``name: nf_conntrack`` is kernel-aware: on kernels older than 4.19 the IPv4 connection
tracking kube-proxy needs is the separate ``nf_conntrack_ipv4`` module (merged into
``nf_conntrack`` in 4.19), so that one is loaded and persisted instead.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_content
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

CONNTRACK_SPLIT = (4, 19)  # below: nf_conntrack_ipv4 is a module of its own


@dataclass(frozen=True)
class KernelModules:
    """Kernel release, built-in modules among the asked ones, and /proc/modules names."""

    release: str
    builtin: frozenset[str]
    loaded: frozenset[str]

    def version(self) -> tuple[int, int]:
        m = re.match(r"(\d+)\.(\d+)", self.release)
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)

    def present(self, name: str) -> bool:
        return name in self.loaded or name in self.builtin


def canonical(name: str) -> str:
    """The kernel lists modules with underscores whatever the file is called."""
    return name.replace("-", "_")


def candidates(name: str) -> list[str]:
    """Modules whose state the plan may need (nf_conntrack may mean nf_conntrack_ipv4)."""
    name = canonical(name)
    return [name, "nf_conntrack_ipv4"] if name == "nf_conntrack" else [name]


def effective_name(name: str, kmods: KernelModules) -> str:
    """The module to act on: nf_conntrack_ipv4 for nf_conntrack on kernels < 4.19."""
    name = canonical(name)
    if name == "nf_conntrack" and kmods.version() < CONNTRACK_SPLIT:
        return "nf_conntrack_ipv4"
    return name


def parse_kmod(out: str, rc: int) -> KernelModules:
    """Parse the ``kmod:`` fact: release, ``--- builtin`` names, ``--- modules`` lines."""
    lines = out.splitlines()
    if not lines:
        raise ModuleArgError(f"cannot read kernel modules (rc {rc})", field="name")
    release = lines[0].strip()
    section = ""
    builtin: set[str] = set()
    loaded: set[str] = set()
    for line in lines[1:]:
        if line.startswith("--- "):
            section = line[4:].strip()
        elif line.strip():
            name = line.split()[0]
            (builtin if section == "builtin" else loaded).add(canonical(name))
    return KernelModules(
        release, frozenset(builtin), frozenset(loaded - builtin) | frozenset(loaded)
    )


def kmod_fact(name: str) -> Fact:
    """uname -r, which candidates are built in, then /proc/modules as is."""
    checks = []
    for mod in candidates(name):
        dashed = mod.replace("_", "-")
        checks.append(
            f"if [ -d /sys/module/{mod} ] && ! grep -q '^{mod} ' /proc/modules 2>/dev/null "
            f"|| grep -qE '/({mod}|{dashed})\\.ko' /lib/modules/$r/modules.builtin 2>/dev/null; "
            f"then echo {mod}; fi"
        )
    cmd = (
        "( r=$(uname -r); echo $r; echo '--- builtin'; "
        + "; ".join(checks)
        + "; echo '--- modules'; cat /proc/modules 2>/dev/null; true )"
    )
    return Fact(key=f"kmod:{canonical(name)}", command=cmd, parse=parse_kmod)


def load_conf(name: str) -> str:
    return f"/etc/modules-load.d/{name}.conf"


def options_conf(name: str) -> str:
    return f"/etc/modprobe.d/{name}.conf"


class KernelModule(Module):
    """Load/unload a kernel module and optionally make that survive a reboot."""

    name: ClassVar[str] = "kernel_module"
    aliases: ClassVar[tuple[str, ...]] = ("modprobe",)
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
            "state": {"enum": ["present", "absent"]},
            "params": {"type": "string"},
            "persistent": {"enum": ["present", "absent", "disabled"]},
        },
        "required": ["name"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        name = str(args["name"])
        facts = [kmod_fact(name)]
        if args.get("persistent", "disabled") != "disabled":
            for mod in candidates(name):
                facts += [file_fact(load_conf(mod)), file_fact(options_conf(mod))]
        return facts

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        state = args.get("state", "present")
        persistent = args.get("persistent", "disabled")
        if state == "absent" and persistent == "present":
            raise ModuleArgError(
                "persistent: present contradicts state: absent", field="persistent"
            )
        kmods: KernelModules = facts[f"kmod:{canonical(str(args['name']))}"]
        mod = effective_name(str(args["name"]), kmods)
        try:
            params = shlex.join(shlex.split(str(args.get("params") or "")))
        except ValueError as err:
            raise ModuleArgError(f"cannot split params: {err}", field="params") from err
        changes: list[Change] = []
        label = f"kernel module {mod}"
        if state == "present" and not kmods.present(mod):
            cmd = f"modprobe {mod}" + (f" {params}" if params else "")
            changes.append(
                Change("add", f"load {label}", (Run(cmd),), Diff(label, "absent\n", "loaded\n"))
            )
        elif state == "absent" and kmods.present(mod):
            if mod in kmods.builtin:
                raise ModuleArgError(
                    f"{mod} is built into the kernel and cannot be unloaded", field="name"
                )
            changes.append(
                Change(
                    "remove",
                    f"unload {label}",
                    (Run(f"modprobe -r {mod}"),),
                    Diff(label, "loaded\n", "absent\n"),
                )
            )
        if persistent == "present":
            changes += plan_content(
                load_conf(mod),
                facts[f"file:{load_conf(mod)}"],
                f"{mod}\n".encode(),
                create_parent=True,
            )
            if params:
                # modprobe.d has its own quoting ("a b"): the params go in as written
                text = f"options {mod} {' '.join(str(args['params']).split())}\n"
                changes += plan_content(
                    options_conf(mod),
                    facts[f"file:{options_conf(mod)}"],
                    text.encode(),
                    create_parent=True,
                )
        elif persistent == "absent":
            for path in (load_conf(mod), options_conf(mod)):
                cur: FileState = facts[f"file:{path}"]
                if cur.exists:
                    changes.append(
                        Change(
                            "remove",
                            f"remove {path}",
                            (Run(f"rm -f {shlex.quote(path)}"),),
                            Diff(path, cur.text() if cur.content is not None else None, None),
                        )
                    )
        return changes
