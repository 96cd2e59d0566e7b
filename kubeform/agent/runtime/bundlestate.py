"""A crun container's state from what the host keeps, as pure functions.

Why: the agent remembers nothing (kill -9, reboot); what a container is now follows from
its bundle's meta.json (who it belongs to), the shim's shim.json and exit.json, whether
the shim still lives, and ``crun state``. One function decides, tested with data files.
"""

from typing import Any, Dict, List, Optional

from .driver import ContainerInfo

# A container the shim never started (no shim.json) counts as starting for this long;
# after that its shim died before running it (or the host rebooted).
START_GRACE = 30.0
LOST_EXIT_CODE = 255  # the kubelet's code for a container whose end nobody saw


def container_info(
    meta: Dict[str, Any],
    shim: Optional[Dict[str, Any]],
    exit: Optional[Dict[str, Any]],
    shim_alive: bool,
    crun: Optional[Dict[str, Any]],
    now_age: float,
    runtime_error: str = "",
) -> ContainerInfo:
    """What the container is: meta.json (pod_uid, name, attempt, id), shim.json, exit.json,
    whether the shim process lives, crun's state (None when crun knows no such container)
    the bundle's age in seconds, and what the runtime itself logged (crun's --log: only
    its own errors, e.g. an executable not found; the container's output is elsewhere)."""

    def info(state: str, code: Optional[int], started: str, finished: str, pid: int, reason: str) -> ContainerInfo:
        return ContainerInfo(
            pod_uid=str(meta.get("pod_uid", "")),
            name=str(meta.get("name", "")),
            attempt=int(meta.get("attempt", 0)),
            id=str(meta.get("id", "")),
            state=state,
            exit_code=code,
            started_at=started,
            finished_at=finished,
            pid=pid,
            reason=reason,
        )

    started = str((shim or {}).get("started_at", ""))
    if exit is not None:
        code = int(exit.get("exit_code", LOST_EXIT_CODE))
        reason = "Completed" if code == 0 else "Error"
        if exit.get("error") or (code != 0 and runtime_error.strip()):
            # the process never ran: Kubernetes' StartError, exit code 128 (crun's message
            # is in the container's log too: it shares the container's stderr)
            reason, code = "StartError", 128
        finished = str(exit.get("finished_at", ""))
        return info("exited", code, str(exit.get("started_at", "") or started), finished, 0, reason)
    status = str((crun or {}).get("status", ""))
    pid = int((crun or {}).get("pid", 0) or 0)
    if shim_alive:
        if status in ("running", "stopped", "paused") and pid:
            return info("running", None, started, "", pid, "")
        return info("created", None, "", "", 0, "")
    if status in ("running", "paused") and pid:
        # its shim was killed but crun still runs it: running (its output is lost), never
        # "exited", or the lifecycle would start a second copy
        return info("running", None, started, "", pid, "")
    if shim is None and now_age < START_GRACE:
        return info("created", None, "", "", 0, "")
    # the shim is gone without writing exit.json: a reboot, or it was killed
    return info("exited", LOST_EXIT_CODE, started, str(meta.get("lost_at", "")), 0, "Error")


def proc_stat_times(stat: str) -> int:
    """utime+stime+cutime+cstime (clock ticks) from /proc/<pid>/stat's text."""
    rest = stat[stat.rfind(")") + 2:].split()
    # fields after ") ": state(3) ... utime is field 14, i.e. index 11 here
    return sum(int(x) for x in rest[11:15])


def proc_status_rss(status: str) -> int:
    """VmRSS in bytes from /proc/<pid>/status (0 for kernel threads / zombies)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            parts = line.split()
            return int(parts[1]) * 1024
    return 0


def sum_usage(samples: List[Dict[str, int]], ticks_per_second: int) -> Dict[str, int]:
    """Add up per-process samples {"ticks", "rss"} into {"cpu_ns", "memory_bytes"}."""
    ticks = sum(s.get("ticks", 0) for s in samples)
    return {
        "cpu_ns": ticks * (1000000000 // max(1, ticks_per_second)),
        "memory_bytes": sum(s.get("rss", 0) for s in samples),
    }
