"""A process's state letter and start time from /proc/PID/stat.

Why: a pid alone does not name a process (pids are reused), the pid with its start time
does. crun's state read (crunstate) and the shim's liveness check both need it; the shim
imports this module at every container start, so it imports nothing (no typing).
"""

MYPY = False
if MYPY:  # pragma: no cover
    from typing import Optional, Tuple


def parse(text):
    # type: (str) -> Optional[Tuple[str, int]]
    """(state, starttime) from a /proc/PID/stat line; None when malformed. The command name
    in parentheses may hold spaces and parentheses: fields start after the last ')'."""
    _, paren, rest = text.rpartition(")")
    fields = rest.split()
    if not paren or len(fields) < 20:
        return None
    try:
        return fields[0], int(fields[19])
    except ValueError:
        return None


def read(pid):
    # type: (int) -> Optional[Tuple[str, int]]
    """(state, starttime) of process pid, None when it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            return parse(f.read().decode("utf-8", "replace"))
    except OSError:
        return None


def started_ticks(pid):
    # type: (int) -> int
    """When process pid started (clock ticks since boot, field 22 of /proc/PID/stat; 0 when
    it does not exist): with the pid, it names one process even when pids are reused."""
    got = read(pid)
    return got[1] if got is not None else 0
