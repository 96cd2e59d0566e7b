"""Carrying out lab verbs: up, down, status, stop/start, reboot, partition/heal.

Each verb reads the world (state file, /proc, ip, mounts), asks the pure modules what
to do, and does it. ``up`` converges: run twice, it starts what is missing and leaves
what runs alone; ``down`` sweeps by name as well as by state, so it is idempotent.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import paramiko
from rich.console import Console

from kubeform.errors import UserError
from kubeform.lab import preflight, render, state, system
from kubeform.lab.image import ImageSpec, ensure_image, needs_build, read_stamp
from kubeform.lab.keys import new_ed25519
from kubeform.lab.plan import LAB_ROOT, LabPlan, make_plan
from kubeform.lab.state import Action, HostState, LabState

BOOT_TIMEOUT = 90.0
REBOOT_SIGNAL = signal.SIGRTMIN + 5  # systemd: start reboot.target


def lab_dir(name: str) -> Path:
    return Path(LAB_ROOT) / name


def state_file(name: str) -> Path:
    return lab_dir(name) / "state.json"


def load_state(name: str) -> LabState | None:
    path = state_file(name)
    try:
        text = path.read_text()
    except OSError:
        return None
    return state.loads(text, str(path))


def require_state(name: str) -> LabState:
    found = load_state(name)
    if found is None:
        raise UserError(f"no lab {name!r} here", hint="start one with `kubeform lab up`")
    return found


def save_state(st: LabState) -> None:
    system.write_file(state_file(st.name), state.dumps(st), 0o644)


def other_labs() -> dict[str, str]:
    """Every recorded lab's subnet, by name."""
    labs: dict[str, str] = {}
    for path in Path(LAB_ROOT).glob("*/state.json"):
        try:
            labs[path.parent.name] = state.loads(path.read_text(), str(path)).subnet
        except (OSError, UserError):
            continue
    return labs


@contextmanager
def locked() -> Iterator[None]:
    """One lab verb that changes things at a time on this machine."""
    Path(LAB_ROOT).mkdir(parents=True, exist_ok=True)
    with open(Path(LAB_ROOT) / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def preflight_checks(*, need_debootstrap: bool) -> None:
    """Root and tools, before anything is touched."""
    err = preflight.check_root(os.geteuid())
    if err:
        raise err
    need = ["systemd-nspawn", "ip", "mount"] + (["debootstrap"] if need_debootstrap else [])
    err = preflight.check_tools({t: system.which(t) for t in need}, need)
    if err:
        raise err


# ---------------------------------------------------------------- per-host pieces


def nspawn_pid(host: HostState) -> int | None:
    """The running nspawn of a host, from the supervisor's pid file (checked in /proc)."""
    try:
        pid = int((Path(host.dir) / "nspawn.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if system.alive(pid) else None


def init_pid(host: HostState) -> int | None:
    """The container's PID 1 (systemd), a child of nspawn."""
    pid = nspawn_pid(host)
    if pid is None:
        return None
    kids = system.children(pid)
    return kids[0] if kids else None


def supervisor_alive(host: HostState) -> bool:
    return system.alive(host.supervisor_pid)


def host_keys(st: LabState, host: HostState) -> tuple[str, str]:
    """The host's ed25519 key pair, made once and kept beside its overlay layers."""
    priv = Path(host.dir) / "ssh_host_ed25519_key"
    pub = priv.with_name(priv.name + ".pub")
    if not (priv.exists() and pub.exists()):
        pair = new_ed25519(f"root@{host.name}")
        system.write_file(priv, pair.private, 0o600)
        system.write_file(pub, pair.public, 0o644)
    return priv.read_text(), pub.read_text()


def client_key(st: LabState) -> str:
    """The lab's SSH client key (authorized for root on every host); its public line."""
    priv = Path(st.directory) / "id_ed25519"
    pub = priv.with_name("id_ed25519.pub")
    if not (priv.exists() and pub.exists()):
        pair = new_ed25519(f"kubeform-lab-{st.name}")
        system.write_file(priv, pair.private, 0o600)
        system.write_file(pub, pair.public, 0o644)
    return pub.read_text()


def ensure_network(plan: LabPlan, st: LabState) -> None:
    """Bridge with .1 in the root namespace; per host a namespace, veth and address."""
    for cmd in render.ip_commands_for_bridge(plan, system.link_exists(plan.bridge)):
        system.run(cmd)
    have_ns = set(system.netns_names())
    for host in st.hosts:
        existing = []
        if host.netns in have_ns:
            existing.append("netns")
        if system.link_exists(host.veth):
            existing.append("veth")
        for cmd in render.ip_commands_for_host(plan, plan.host(host.name), host.veth, existing):
            system.run(cmd)
        if host.name in st.partitioned:
            system.run(["ip", "link", "set", host.veth, "down"])


def ensure_root(st: LabState, host: HostState, authorized: str, plan: LabPlan) -> None:
    """The host's overlay root, mounted, with its own identity files in its layer."""
    hdir = Path(host.dir)
    for sub in ("upper", "work", "root"):
        (hdir / sub).mkdir(parents=True, exist_ok=True)
    root = str(hdir / "root")
    if root not in system.mountpoints():
        opts = render.overlay_options(st.base, str(hdir / "upper"), str(hdir / "work"))
        system.run(["mount", "-t", "overlay", "overlay", "-o", opts, root])
    priv, pub = host_keys(st, host)
    mid_file = hdir / "machine-id"
    if not mid_file.exists():
        system.write_file(mid_file, secrets.token_hex(16) + "\n", 0o644)
    files = render.host_files(
        plan,
        plan.host(host.name),
        host_private_key=priv,
        host_public_key=pub,
        authorized_key=authorized,
        machine_id=mid_file.read_text().strip(),
    )
    (Path(root) / "root/.ssh").mkdir(mode=0o700, exist_ok=True)
    for path, content, mode in files:
        system.write_file(Path(root) / path.lstrip("/"), content, mode)


def start_supervisor(st: LabState, host: HostState) -> None:
    """Start the host's detached supervisor (setsid --fork: no parent left to reap it)."""
    pidfile = Path(host.dir) / "supervisor.pid"
    pidfile.unlink(missing_ok=True)
    argv = [
        "setsid",
        "--fork",
        sys.executable,
        "-m",
        "kubeform.lab.supervisor",
        "--lab-dir",
        st.directory,
        "--host",
        host.name,
        "--",
        *render.nspawn_argv(st.name, host.name, str(Path(host.dir) / "root")),
    ]
    with open(Path(host.dir) / "supervisor.log", "ab") as log:
        system.run_detached(argv, log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            host.supervisor_pid = int(pidfile.read_text())
            return
        except (OSError, ValueError):
            time.sleep(0.02)
    raise UserError(f"{host.name}: the supervisor did not start", hint=f"see {host.dir}/supervisor.log")


def ssh_answers(address: str, public_key_line: str, timeout: float = 3.0) -> bool:
    """True when sshd on the host answers with exactly the recorded host key."""
    want = public_key_line.split()[1]
    try:
        sock = socket.create_connection((address, 22), timeout=timeout)
    except OSError:
        return False
    transport = paramiko.Transport(sock)
    try:
        transport.start_client(timeout=timeout)
        got = transport.get_remote_server_key()
        if got.get_base64() != want:
            raise UserError(
                f"{address} answered with a host key that is not the lab's",
                hint="another machine holds this address; `kubeform lab down` and retry",
            )
        return True
    except (paramiko.SSHException, OSError, EOFError):
        return False
    finally:
        transport.close()


def wait_ssh(
    st: LabState, hosts: Sequence[HostState], *, timeout: float = BOOT_TIMEOUT,
    until: Callable[[HostState], bool] | None = None,
) -> None:
    """Wait (in parallel) until every host's sshd answers with its recorded key."""

    def one(host: HostState) -> None:
        pub = (Path(host.dir) / "ssh_host_ed25519_key.pub").read_text()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (until is None or until(host)) and ssh_answers(host.address, pub, 1.0):
                return
            if not supervisor_alive(host) and nspawn_pid(host) is None:
                raise UserError(
                    f"{host.name} stopped while booting",
                    hint=f"see {host.dir}/console.log",
                )
            time.sleep(0.1)
        raise UserError(
            f"{host.name} did not answer SSH within {timeout:.0f} s",
            hint=f"see {host.dir}/console.log",
        )

    with ThreadPoolExecutor(max_workers=max(1, len(hosts))) as pool:
        for fut in [pool.submit(one, h) for h in hosts]:
            fut.result()


# ---------------------------------------------------------------- verbs


def up(
    *, hosts: int, name: str, subnet: str, rebuild: bool, console: Console
) -> tuple[LabState, Path]:
    """Bring a lab to "all hosts running and answering SSH"; returns its state and inventory."""
    plan = make_plan(hosts=hosts, name=name, subnet=subnet)
    spec = ImageSpec()
    preflight_checks(need_debootstrap=needs_build(read_stamp(spec), spec, rebuild))
    with locked():
        existing = load_state(name)
        err = preflight.check_existing(
            name,
            recorded_subnet=existing.subnet if existing else None,
            recorded_hosts=len(existing.hosts) if existing else None,
            subnet=plan.subnet,
            hosts=hosts,
        )
        if err:
            raise err
        err = preflight.check_name(
            name, has_state=existing is not None, bridge=plan.bridge, links=system.link_names()
        )
        if err:
            raise err
        err = preflight.check_subnet(
            name,
            plan.subnet,
            plan.bridge,
            ip_addr_json=system.ip_json("addr", "show"),
            ip_route_json=system.ip_json("route", "show"),
            other_labs=other_labs(),
            nameservers=system.nameservers(),
        )
        if err:
            raise err
        if rebuild:
            users = [n for n in other_labs() if n != name or existing]
            err = preflight.check_image_in_use(users)
            if err:
                raise err
        ensure_image(spec, rebuild=rebuild, console=console)
        st = existing or state.state_from_plan(plan, spec.path)
        Path(st.directory).mkdir(parents=True, exist_ok=True)
        save_state(st)
        authorized = client_key(st)
        ensure_network(plan, st)
        for host in st.hosts:
            ensure_root(st, host, authorized, plan)
        keys = {h.name: host_keys(st, h)[1] for h in st.hosts}
        system.write_file(
            Path(st.directory) / "known_hosts", render.known_hosts(plan, keys), 0o644
        )
        st.stopped = []
        for host in st.hosts:
            if not supervisor_alive(host):
                start_supervisor(st, host)
        save_state(st)
        inventory = Path(st.directory) / "inventory.yml"
        system.write_file(inventory, render.lab_inventory_text(plan), 0o644)
    wait_ssh(st, [h for h in st.hosts if h.name not in st.partitioned])
    return st, inventory


def _facts_actions(name: str, st: LabState | None) -> list[Action]:
    return state.teardown_actions(
        name,
        str(lab_dir(name)),
        st,
        procs=system.processes(),
        mounts=system.mountpoints(),
        netns=system.netns_names(),
        links=system.link_names(),
    )


def down(name: str) -> list[Action]:
    """Remove everything the lab made; safe to run again, and on a half-made lab."""
    preflight_checks(need_debootstrap=False)
    with locked():
        try:
            st = load_state(name)
        except UserError:
            st = None
        done: list[Action] = []
        for _ in range(5):  # a supervisor may restart a machine between scan and kill
            kills = [a for a in _facts_actions(name, st) if a.kind == "kill"]
            if not kills:
                break
            for action in kills:
                system.kill(int(action.target))
            system.wait_gone([int(a.target) for a in kills], 3.0)
            done += kills
        rest = [a for a in _facts_actions(name, st) if a.kind != "kill"]
        for action in rest:
            if action.kind == "umount":
                system.umount(action.target)
            elif action.kind == "del-netns":
                system.run(["ip", "netns", "del", action.target], check=False)
            elif action.kind == "del-link":
                system.run(["ip", "link", "del", action.target], check=False)
            elif action.kind == "rmtree":
                system.rmtree(action.target)
        return done + rest


@dataclass(frozen=True)
class HostStatus:
    """One row of ``lab status``."""

    name: str
    address: str
    groups: tuple[str, ...]
    state: str  # running, stopped, partitioned, booting
    uptime: float | None
    boot_id: str | None


def host_status(st: LabState, host: HostState) -> HostStatus:
    init = init_pid(host)
    if init is None:
        run_state = "booting" if supervisor_alive(host) else "stopped"
        return HostStatus(host.name, host.address, tuple(host.groups), run_state, None, None)
    link_up = system.link_exists(host.veth) and bool(
        int(Path(f"/sys/class/net/{host.veth}/flags").read_text(), 16) & 1
    )
    run_state = "running" if link_up else "partitioned"
    return HostStatus(
        host.name,
        host.address,
        tuple(host.groups),
        run_state,
        system.started_seconds_ago(init),
        system.boot_id(init),
    )


def status(name: str) -> list[HostStatus]:
    st = require_state(name)
    return [host_status(st, h) for h in st.hosts]


def stop(name: str, host_name: str) -> None:
    """Power a host off hard (a dead node): supervisor first, so nothing restarts it."""
    preflight_checks(need_debootstrap=False)
    with locked():
        st = require_state(name)
        host = st.host(host_name)
        pids = [p for p in (host.supervisor_pid,) if p is not None and system.alive(p)]
        for pid in pids:
            system.kill(pid, signal.SIGTERM)
        if not system.wait_gone(pids, 10.0):
            for pid in pids:
                system.kill(pid)
        init, nsp = init_pid(host), nspawn_pid(host)
        leftovers = [p for p in (init, nsp) if p is not None]
        for leftover in leftovers:
            system.kill(leftover)
        system.wait_gone(leftovers, 5.0)
        if host.name not in st.stopped:
            st.stopped.append(host.name)
        save_state(st)


def start(name: str, host_name: str) -> None:
    """Start a stopped host again and wait until it answers SSH."""
    preflight_checks(need_debootstrap=False)
    with locked():
        st = require_state(name)
        host = st.host(host_name)
        plan = make_plan(hosts=len(st.hosts), name=st.name, subnet=st.subnet)
        ensure_network(plan, st)
        ensure_root(st, host, client_key(st), plan)
        if not supervisor_alive(host):
            start_supervisor(st, host)
        st.stopped = [h for h in st.stopped if h != host.name]
        save_state(st)
    if host.name not in st.partitioned:
        wait_ssh(st, [host])


def reboot(name: str, host_name: str, *, wait: bool = True) -> tuple[str | None, str | None]:
    """Reboot inside the host (systemd's reboot.target); returns (old, new) boot ids."""
    preflight_checks(need_debootstrap=False)
    st = require_state(name)
    host = st.host(host_name)
    init = init_pid(host)
    if init is None:
        raise UserError(f"{host.name} is not running", hint=f"`kubeform lab start {host.name}`")
    old = system.boot_id(init)
    system.kill(init, REBOOT_SIGNAL)
    if not wait:
        return old, None

    def rebooted(h: HostState) -> bool:
        pid = init_pid(h)
        return pid is not None and system.boot_id(pid) not in (None, old)

    wait_ssh(st, [host], until=rebooted)
    new_init = init_pid(host)
    return old, system.boot_id(new_init) if new_init else None


def set_partition(name: str, host_name: str, cut: bool) -> None:
    """Cut (link down on the root side of its veth) or restore a host's network."""
    preflight_checks(need_debootstrap=False)
    with locked():
        st = require_state(name)
        host = st.host(host_name)
        system.run(["ip", "link", "set", host.veth, "down" if cut else "up"])
        if cut and host.name not in st.partitioned:
            st.partitioned.append(host.name)
        if not cut:
            st.partitioned = [h for h in st.partitioned if h != host.name]
        save_state(st)


def ssh_command(name: str, host_name: str, command: Sequence[str]) -> list[str]:
    st = require_state(name)
    host = st.host(host_name)
    return render.ssh_argv(
        host.address,
        f"{st.directory}/id_ed25519",
        f"{st.directory}/known_hosts",
        command,
    )
