"""What `crun state` and `crun list` answer, read from crun's own state directory.

Why: the agent asks whether containers run on every pass, and on a busy node each
question was an exec of crun (7-10 ms of a core each, about 45 per 15 pods started).
crun keeps one directory per container under its state root (``/run/crun``, or
``$XDG_RUNTIME_DIR/crun`` when that is set, as crun chooses it) holding ``status``, a JSON
document with the init process's ``pid``, its ``process-start-time`` (field 22 of
/proc/PID/stat when crun wrote the file) and the ``bundle``; while a container is
created but not started, an ``exec.fifo`` sits beside it. crun derives the state from
exactly these, so reading them gives its answer without running it:

- ``stopped``: the pid is gone, is a zombie, or is another process now (its start time
  differs from the recorded one: the pid was reused);
- ``created``: alive and exec.fifo still there;
- ``running``: alive otherwise (``paused`` is not told apart: kubeform never pauses).

A status file this module cannot read (an unknown layout of a future crun) yields None
for that id, and the caller asks crun itself. The decision is pure (``status_of``);
tests/data/agent_runtime/crunstate.yaml holds its cases.
"""

import json
import os
from typing import Any, Dict, Optional, Tuple

from . import procstat


def state_root() -> str:
    """crun's state root as crun itself picks it when no --root is given."""
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR", "")
    return os.path.join(runtime_dir, "crun") if runtime_dir else "/run/crun"


def status_of(status: Dict[str, Any], proc: Optional[Tuple[str, int]], fifo: bool) -> str:
    """crun's state of a container from its status document, its init process's
    (state, starttime) from /proc (None: no such process) and whether exec.fifo exists."""
    if proc is None or proc[0] in ("Z", "X"):
        return "stopped"
    recorded = status.get("process-start-time")
    if recorded and recorded != proc[1]:
        return "stopped"  # the pid now belongs to another process
    return "created" if fifo else "running"


def read(cid: str, root: str = "") -> Optional[Dict[str, Any]]:
    """{"id", "pid", "status", "bundle"} of one container as `crun state` gives them, None
    when crun knows no such container or its status file is not one this module reads."""
    d = os.path.join(root or state_root(), cid)
    try:
        with open(os.path.join(d, "status")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    pid = doc.get("pid") if isinstance(doc, dict) else None
    if not isinstance(pid, int) or isinstance(pid, bool):
        return None
    proc = procstat.read(pid) if pid > 0 else None
    status = status_of(doc, proc, os.path.exists(os.path.join(d, "exec.fifo")))
    return {"id": cid, "pid": pid, "status": status, "bundle": doc.get("bundle", "")}  # crun keeps the pid too


def list_all(root: str = "") -> Optional[Dict[str, Dict[str, Any]]]:
    """Every container crun knows, id -> read(id); None when one of them cannot be read
    here (the caller then asks crun)."""
    root = root or state_root()
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return {}  # crun has never run a container on this host
    except OSError:
        return None
    out = {}  # type: Dict[str, Dict[str, Any]]
    for name in names:
        if name.startswith(".") or not os.path.exists(os.path.join(root, name, "status")):
            continue  # crun's own bookkeeping, or a container half-made or half-deleted
        st = read(name, root)
        if st is None:
            return None
        out[name] = st
    return out
