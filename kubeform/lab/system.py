"""The thin imperative shell of the lab: ip(8), mount, /proc, signals, files.

Nothing here decides anything; it runs what the pure modules planned and reports
facts back in plain data (lists of names, ``Proc`` records, parsed ``ip -j`` JSON).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from kubeform.errors import UserError
from kubeform.lab.state import Proc

CLK_TCK = os.sysconf("SC_CLK_TCK")


def run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command; a failure becomes a UserError with the command and its stderr."""
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        msg = (proc.stderr or proc.stdout).strip().splitlines()
        raise UserError(f"`{' '.join(argv)}` failed: {msg[-1] if msg else proc.returncode}")
    return proc


def ip_json(*args: str) -> list[dict[str, Any]]:
    """``ip -j ARGS`` parsed; an empty list when ip prints nothing."""
    out = run(["ip", "-j", *args]).stdout.strip()
    data = json.loads(out) if out else []
    return [d for d in data if isinstance(d, dict)]


def nameservers(path: str = "/etc/resolv.conf") -> list[str]:
    """The machine's DNS servers: a lab subnet must not swallow them."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [
        parts[1] for parts in (line.split() for line in lines)
        if len(parts) >= 2 and parts[0] == "nameserver"
    ]


def link_names() -> list[str]:
    return [str(link["ifname"]) for link in ip_json("link", "show")]


def link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def netns_names() -> list[str]:
    try:
        return sorted(os.listdir("/run/netns"))
    except OSError:
        return []


def mountpoints() -> list[str]:
    """Mount points of the root mount namespace (octal escapes decoded)."""
    points = []
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1:
                points.append(fields[1].encode().decode("unicode_escape"))
    return points


def processes() -> list[Proc]:
    """Every process with its parent and argv, read from /proc."""
    procs = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        argv = tuple(a.decode(errors="replace") for a in raw.split(b"\0") if a)
        procs.append(Proc(pid=int(entry), ppid=ppid, argv=argv))
    return procs


def alive(pid: int | None) -> bool:
    """True when ``pid`` runs and is not a zombie."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def children(pid: int) -> list[int]:
    """Direct children of a process (the container init of an nspawn process)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def started_seconds_ago(pid: int) -> float | None:
    """How long a process has run, from its start time in /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return None
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return max(0.0, uptime - start_ticks / CLK_TCK)


def boot_id(init_pid: int) -> str | None:
    """The boot id a container sees (nspawn gives each boot a fresh one)."""
    try:
        path = Path(f"/proc/{init_pid}/root/proc/sys/kernel/random/boot_id")
        return path.read_text().strip()
    except OSError:
        return None


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def wait_gone(pids: Sequence[int], timeout: float) -> bool:
    """Wait until none of ``pids`` runs; True when they all went in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def write_file(path: Path, content: str, mode: int) -> None:
    """Write ``content`` with ``mode`` unless it is already exactly that (idempotent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text() == content and (path.stat().st_mode & 0o7777) == mode:
            return
    except OSError:
        pass
    tmp = path.with_name(path.name + ".kftmp")
    tmp.write_text(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def umount(path: str) -> None:
    run(["umount", "-l", path], check=False)


def rmtree(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)


def which(tool: str) -> bool:
    return shutil.which(tool) is not None


def run_detached(argv: Sequence[str], log: IO[bytes]) -> None:
    """Start a process that outlives kubeform (``setsid --fork`` returns at once).

    PYTHONPATH points at this kubeform, so the supervisor imports the same code even
    when kubeform runs from a source tree.
    """
    import kubeform

    env = dict(os.environ)
    src = str(Path(kubeform.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    subprocess.run(
        list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=True,
        cwd="/", start_new_session=True, env=env,
    )
