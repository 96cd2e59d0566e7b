"""A conmon-like keeper per container: runs the runtime in the foreground, keeps its output.

Why a shim: the container must outlive the agent (kill -9, restart, upgrade), yet someone
must read its stdout/stderr into the CRI log and learn its exit code. The shim detaches
from the agent (double fork + setsid, so it is nobody's child and no session's member),
runs e.g. ``crun --cgroup-manager=disabled run --no-new-keyring --bundle B ID``, writes
each line to the log in the CRI format (rotated by size), and when the runtime returns
writes ``exit.json`` (exit code, started_at, finished_at) in its state directory. A
restarted agent reads shim.json / exit.json and knows what happened while it was away.

    python3 -m kubeform.agent.runtime.shim --state-dir DIR --log PATH -- ARGV...

The launching process gets its exit status at once (0: the shim is on its way); the shim
writes shim.json (its pid, the runtime's pid, started_at) once the runtime runs.
"""

import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any, BinaryIO, Dict, List, Optional

from . import crilog

SHIM_FILE = "shim.json"
EXIT_FILE = "exit.json"


class RotatingLog(object):
    """The CRI log file, reopened after rotation to <path>.<stamp> (one old file kept)."""

    def __init__(self, path: str, max_size: int = crilog.ROTATE_SIZE, keep: int = crilog.ROTATE_KEEP) -> None:
        self.path = path
        self.max_size = max_size
        self.keep = keep
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        self.f = open(path, "ab")  # type: BinaryIO
        self.size = self.f.tell()

    def write(self, data: bytes) -> None:
        if crilog.should_rotate(self.size, len(data), self.max_size):
            self.rotate()
        self.f.write(data)
        self.f.flush()
        self.size += len(data)

    def rotate(self) -> None:
        self.f.close()
        try:
            os.rename(self.path, crilog.rotated_name(self.path, time.time()))
        except OSError:
            pass
        prefix = os.path.basename(self.path) + "."
        d = os.path.dirname(self.path) or "."
        old = sorted(n for n in os.listdir(d) if n.startswith(prefix) and n[len(prefix):len(prefix) + 1].isdigit())
        for name in old[: max(0, len(old) - self.keep)]:
            try:
                os.unlink(os.path.join(d, name))
            except OSError:
                pass
        self.f = open(self.path, "ab")
        self.size = 0

    def close(self) -> None:
        self.f.close()


def write_json(path: str, value: Dict[str, object]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def exit_code(returncode: int) -> int:
    """Popen's -N (killed by signal N) as a shell's 128+N, the code Kubernetes shows."""
    return 128 - returncode if returncode < 0 else returncode


def pump(proc: "subprocess.Popen[bytes]", log: RotatingLog) -> None:
    """Copy stdout and stderr into the log, line by line, until both reach EOF."""
    names = {}  # type: Dict[int, str]
    pending = {}  # type: Dict[int, bytes]
    for pipe, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
        if pipe is not None:
            names[pipe.fileno()] = name
            pending[pipe.fileno()] = b""
    open_fds = list(names)
    while open_fds:
        try:
            ready, _, _ = select.select(open_fds, [], [])
        except InterruptedError:
            continue
        for fd in ready:
            data = os.read(fd, 65536)
            ts = crilog.timestamp(time.time())
            if data:
                records, pending[fd] = crilog.split(pending[fd], data)
            else:
                records = crilog.flush(pending[fd])
                open_fds.remove(fd)
            if records:
                log.write(b"".join(crilog.format_record(ts, names[fd], r) for r in records))


def serve(state_dir: str, log_path: str, argv: List[str], max_size: int) -> int:
    """The shim's life after detaching: run argv, keep its output, record how it ended."""
    log = RotatingLog(log_path, max_size)
    started = time.time()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as exc:
        log.write(crilog.format_record(crilog.timestamp(time.time()), "stderr", crilog.Record("F", str(exc).encode())))
        write_json(
            os.path.join(state_dir, EXIT_FILE),
            {"exit_code": 127, "started_at": "", "finished_at": crilog.timestamp(time.time()), "error": str(exc)},
        )
        return 127

    def forward(signum: int, frame: object) -> None:
        try:
            proc.send_signal(signum)
        except OSError:
            pass

    signal.signal(signal.SIGTERM, forward)
    write_json(
        os.path.join(state_dir, SHIM_FILE),
        {"shim_pid": os.getpid(), "runtime_pid": proc.pid, "started_at": crilog.timestamp(started)},
    )
    pump(proc, log)
    code = exit_code(proc.wait())
    log.close()
    write_json(
        os.path.join(state_dir, EXIT_FILE),
        {"exit_code": code, "started_at": crilog.timestamp(started), "finished_at": crilog.timestamp(time.time())},
    )
    return code


def detach() -> bool:
    """Double fork and setsid: True in the grandchild (the shim), False in the caller."""
    pid = os.fork()
    if pid > 0:
        os.waitpid(pid, 0)  # the first child exits at once: no zombie, the caller goes on
        return False
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    return True


def read_state(state_dir: str, name: str) -> Optional[Dict[str, Any]]:
    try:
        with open(os.path.join(state_dir, name)) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def launch(state_dir: str, log_path: str, argv: List[str], max_size: int = crilog.ROTATE_SIZE, pythonpath: str = "") -> None:
    """Start a detached shim for argv (from the agent); returns once it is on its way."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    # -S: no site module, ~30 ms less per container start
    cmd = [sys.executable or "python3", "-S", "-m", "kubeform.agent.runtime.shim", "--state-dir", state_dir, "--log", log_path]
    cmd += ["--max-log-bytes", str(max_size), "--"] + argv
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=30,
        universal_newlines=True,
    )
    if proc.returncode != 0:
        raise OSError("shim failed to start: %s" % proc.stderr.strip()[-300:])


USAGE = "usage: shim --state-dir DIR --log PATH [--max-log-bytes N] [--foreground] -- ARGV..."


def parse_args(args: List[str]) -> Dict[str, Any]:
    """The shim's options (no argparse: it costs ~20 ms of start-up per container)."""
    opts = {"state_dir": "", "log": "", "max_log_bytes": crilog.ROTATE_SIZE, "foreground": False, "argv": []}  # type: Dict[str, Any]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            opts["argv"] = args[i + 1:]
            break
        if a == "--foreground":
            opts["foreground"] = True
            i += 1
            continue
        if a not in ("--state-dir", "--log", "--max-log-bytes") or i + 1 >= len(args):
            raise ValueError("unknown or incomplete option %r" % a)
        key = a[2:].replace("-", "_")
        opts[key] = int(args[i + 1]) if key == "max_log_bytes" else args[i + 1]
        i += 2
    if not opts["state_dir"] or not opts["log"] or not opts["argv"]:
        raise ValueError("--state-dir, --log and a command are required")
    return opts


def main(args: Optional[List[str]] = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if args is None else args)
    except ValueError as exc:
        sys.stderr.write("shim: %s\n%s\n" % (exc, USAGE))
        return 2
    state_dir, log_path, argv = opts["state_dir"], opts["log"], opts["argv"]
    os.makedirs(state_dir, exist_ok=True)
    for name in (SHIM_FILE, EXIT_FILE):
        try:
            os.unlink(os.path.join(state_dir, name))
        except OSError:
            pass
    if opts["foreground"]:
        return serve(state_dir, log_path, argv, opts["max_log_bytes"])
    if not detach():
        return 0
    try:
        serve(state_dir, log_path, argv, opts["max_log_bytes"])
    finally:
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
