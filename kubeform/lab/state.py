"""A lab's recorded state (state.json) and the teardown it implies.

The state file is what ``lab down`` trusts first, but teardown also sweeps what it
finds by name (namespaces, mounts, processes), so a lost or stale state file never
leaves a machine half-removed. The decision "what must go" is a pure function of the
state and the discovered facts; the shell only carries it out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from kubeform.errors import UserError
from kubeform.lab.plan import LabPlan, host_dir, netns_name, veth_name

STATE_VERSION = 1
SUPERVISOR_MODULE = "kubeform.lab.supervisor"
_HOST_RE = re.compile(r"^kf-(master|node)\d+$")


@dataclass
class HostState:
    """What was made for one host; ``supervisor_pid`` is the last one started."""

    name: str
    address: str
    groups: list[str]
    netns: str
    veth: str
    dir: str
    supervisor_pid: int | None = None


@dataclass
class LabState:
    """The record of one lab, enough to find and remove all of it."""

    name: str
    subnet: str
    bridge: str
    gateway: str
    base: str
    directory: str
    hosts: list[HostState] = field(default_factory=list)
    partitioned: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    version: int = STATE_VERSION

    def host(self, name: str) -> HostState:
        for host in self.hosts:
            if host.name == name:
                return host
        known = ", ".join(h.name for h in self.hosts)
        raise UserError(f"no host {name!r} in lab {self.name!r} (hosts: {known})")


def state_from_plan(plan: LabPlan, base: str) -> LabState:
    """The state of a freshly planned lab (no processes yet)."""
    return LabState(
        name=plan.name,
        subnet=plan.subnet,
        bridge=plan.bridge,
        gateway=plan.gateway,
        base=base,
        directory=plan.directory,
        hosts=[
            HostState(
                name=h.name,
                address=h.address,
                groups=list(h.groups),
                netns=netns_name(plan.name, h.name),
                veth=veth_name(plan.name, h.name),
                dir=host_dir(plan.directory, h.name),
            )
            for h in plan.hosts
        ],
    )


def dumps(state: LabState) -> str:
    return json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"


def loads(text: str, source: str) -> LabState:
    """Parse state.json; a damaged file is a user-facing error that says what to do."""
    try:
        raw: dict[str, Any] = json.loads(text)
        hosts = [HostState(**h) for h in raw.pop("hosts")]
        return LabState(hosts=hosts, **raw)
    except (ValueError, TypeError, KeyError) as err:
        raise UserError(
            f"unreadable lab state: {err}",
            file=source,
            hint="run `kubeform lab down --name NAME`, which sweeps a lab by its names",
        ) from None


@dataclass(frozen=True)
class Proc:
    """A process as teardown sees it."""

    pid: int
    ppid: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """One teardown step: kill PID, umount PATH, del-netns NAME, del-link NAME, rmtree PATH."""

    kind: str
    target: str


def _is_supervisor(proc: Proc, lab_dir: str) -> bool:
    return SUPERVISOR_MODULE in proc.argv and lab_dir in proc.argv


def _nspawn_root(proc: Proc) -> str | None:
    if not proc.argv or not proc.argv[0].endswith("systemd-nspawn"):
        return None
    argv = list(proc.argv)
    if "-D" in argv and argv.index("-D") + 1 < len(argv):
        return argv[argv.index("-D") + 1]
    return None


def lab_processes(procs: Iterable[Proc], lab_dir: str) -> dict[str, list[int]]:
    """The lab's supervisors, nspawn processes and container inits (children of nspawn)."""
    procs = list(procs)
    prefix = lab_dir.rstrip("/") + "/"
    supervisors = [p.pid for p in procs if _is_supervisor(p, lab_dir)]
    nspawns = [p.pid for p in procs if (_nspawn_root(p) or "").startswith(prefix)]
    inits = [p.pid for p in procs if p.ppid in nspawns]
    return {"supervisors": supervisors, "inits": inits, "nspawns": nspawns}


def teardown_actions(
    lab: str,
    lab_dir: str,
    state: LabState | None,
    *,
    procs: Sequence[Proc],
    mounts: Sequence[str],
    netns: Sequence[str],
    links: Sequence[str],
) -> list[Action]:
    """Everything to remove, in an order that never leaves a busy mount or a restart.

    Supervisors go first (so nothing restarts a machine), then each container's init
    (which takes its whole PID namespace with it), then nspawn; mounts, namespaces,
    links and finally the lab directory. Discovered things are matched by the lab's
    naming rules, so a missing state file still tears everything down.
    """
    found = lab_processes(procs, lab_dir)
    actions = [Action("kill", str(pid)) for key in ("supervisors", "inits", "nspawns")
               for pid in found[key]]
    prefix = lab_dir.rstrip("/") + "/"
    for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
        actions.append(Action("umount", mount))
    ns_prefix = f"kf-{lab}-"
    wanted_ns = {h.netns for h in state.hosts} if state else set()
    for name in netns:
        if name in wanted_ns or (
            name.startswith(ns_prefix) and _HOST_RE.match(name[len(ns_prefix):])
        ):
            actions.append(Action("del-netns", name))
    wanted_links = set()
    bridge = f"kf-{lab}"[:15]
    if state:
        wanted_links |= {h.veth for h in state.hosts}
        bridge = state.bridge
    else:
        wanted_links |= {veth_name(lab, f"kf-master{i}") for i in range(1, 10)}
        wanted_links |= {veth_name(lab, f"kf-node{i}") for i in range(1, 41)}
    for name in links:
        if name in wanted_links:
            actions.append(Action("del-link", name))
    if bridge in links:
        actions.append(Action("del-link", bridge))
    actions.append(Action("rmtree", lab_dir))
    return actions


def planned_dirs(state: LabState) -> list[str]:
    """Host directories recorded in a state (used by status and teardown checks)."""
    return [h.dir for h in state.hosts]


__all__ = [
    "Action",
    "HostState",
    "LabState",
    "Proc",
    "dumps",
    "host_dir",
    "lab_processes",
    "loads",
    "planned_dirs",
    "state_from_plan",
    "teardown_actions",
]
