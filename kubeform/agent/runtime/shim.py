"""A conmon-like keeper per container: runs the runtime in the foreground, keeps its output.

Why a shim: the container must outlive the agent (kill -9, restart, upgrade), yet someone
must read its stdout/stderr into the CRI log and learn its exit code. The shim detaches
from the agent (double fork + setsid, so it is nobody's child and no session's member),
runs e.g. ``crun --cgroup-manager=disabled run --no-new-keyring --bundle B ID``, writes
each line to the log in the CRI format (rotated by size), and when the runtime returns
writes ``exit.json`` (exit code, started_at, finished_at) in its state directory. A
restarted agent reads shim.json / exit.json and knows what happened while it was away.

    python3 -m kubeform.agent.runtime.shim --state-dir DIR --log PATH -- ARGV...

(the agent starts it as ``python3 -S -c CODE kubeform.agent.runtime.shim --state-dir ...``,
which skips runpy; the module's name is an argument of its own either way)

The launching process gets its exit status at once (0: the shim is on its way); the shim
writes shim.json (its pid, the runtime's pid, started_at) once the runtime runs.

A Python start per container is most of a pod start's CPU on a small node, so the shim
imports only what it runs (os, select, time, _signal, crilog): no subprocess, json, signal
or typing (~70 ms of CPU became ~20 ms on a lab host). It forks and execs the runtime
itself, as subprocess would, and writes its two small JSON files by hand.
"""

import os
import select
import sys
import time

from . import crilog
from .procstat import started_ticks

MYPY = False
if MYPY:  # pragma: no cover
    import signal as _signal  # the checker knows signal; _signal has the same functions
    from typing import Any, BinaryIO, Dict, List, Optional, Tuple
else:
    import _signal  # signal's C half: the signal module imports enum, ~10 ms per start

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


def json_text(value: "Dict[str, object]") -> str:
    """A flat dict of str, int, bool and None as JSON (what json.dumps(sort_keys=True) gives)."""
    parts = []  # type: List[str]
    for key in sorted(value):
        parts.append("%s: %s" % (_json_scalar(key), _json_scalar(value[key])))
    return "{" + ", ".join(parts) + "}"


def _json_scalar(v: object) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    out = []  # type: List[str]
    for ch in str(v):
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_json(path: str, value: "Dict[str, object]") -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(json_text(value))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def exit_code(status: int) -> int:
    """A waitpid status as a shell's code: 128+N when killed by signal N (as Kubernetes shows)."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def spawn(argv: "List[str]") -> "Tuple[int, int, int]":
    """fork + exec argv with stdin /dev/null and stdout/stderr on pipes (what
    subprocess.Popen did here): (pid, stdout fd, stderr fd). OSError when exec fails."""
    out_r, out_w = os.pipe()  # non-inheritable (PEP 446): only 0, 1, 2 reach the runtime
    err_r, err_w = os.pipe()
    fail_r, fail_w = os.pipe()  # close-on-exec: EOF means the exec succeeded
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for name in os.listdir("/proc/self/fd"):  # close_fds, as subprocess does
                if int(name) > 2 and int(name) != fail_w:
                    try:
                        os.close(int(name))
                    except OSError:
                        pass
            for sig in (_signal.SIGPIPE, getattr(_signal, "SIGXFSZ", 0)):
                if sig:
                    _signal.signal(sig, _signal.SIG_DFL)  # as subprocess's restore_signals
            os.execvp(argv[0], argv)
        except OSError as exc:
            os.write(fail_w, ("%d:%s" % (exc.errno or 0, exc.strerror or exc)).encode("utf-8", "replace"))
        finally:
            os._exit(127)
    for fd in (out_w, err_w, fail_w):
        os.close(fd)
    failure = b""
    while True:
        chunk = os.read(fail_r, 4096)
        if not chunk:
            break
        failure += chunk
    os.close(fail_r)
    if failure:
        os.waitpid(pid, 0)
        os.close(out_r)
        os.close(err_r)
        errno, _, text = failure.decode("utf-8", "replace").partition(":")
        raise OSError(int(errno) if errno.isdigit() else 0, "%s: %r" % (text, argv[0]))
    return pid, out_r, err_r


def pump(fds: "List[Tuple[int, str]]", log: RotatingLog) -> None:
    """Copy the streams (fd, name) into the log, line by line, until all reach EOF."""
    names = dict(fds)
    pending = {fd: b"" for fd, _ in fds}  # type: Dict[int, bytes]
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
                os.close(fd)
            if records:
                log.write(b"".join(crilog.format_record(ts, names[fd], r) for r in records))


def serve(state_dir: str, log_path: str, argv: "List[str]", max_size: int) -> int:
    """The shim's life after detaching: run argv, keep its output, record how it ended."""
    log = RotatingLog(log_path, max_size)
    started = time.time()
    try:
        pid, out_fd, err_fd = spawn(argv)
    except OSError as exc:
        log.write(crilog.format_record(crilog.timestamp(time.time()), "stderr", crilog.Record("F", str(exc).encode())))
        write_json(
            os.path.join(state_dir, EXIT_FILE),
            {"exit_code": 127, "started_at": "", "finished_at": crilog.timestamp(time.time()), "error": str(exc)},
        )
        return 127

    def forward(signum: int, frame: object) -> None:
        try:
            os.kill(pid, signum)
        except OSError:
            pass

    _signal.signal(_signal.SIGTERM, forward)
    me = os.getpid()
    write_json(
        os.path.join(state_dir, SHIM_FILE),
        {"shim_pid": me, "shim_start": started_ticks(me), "runtime_pid": pid, "started_at": crilog.timestamp(started)},
    )
    pump([(out_fd, "stdout"), (err_fd, "stderr")], log)
    code = exit_code(os.waitpid(pid, 0)[1])
    log.close()
    write_json(
        os.path.join(state_dir, EXIT_FILE),
        {"exit_code": code, "started_at": crilog.timestamp(started), "finished_at": crilog.timestamp(time.time())},
    )
    return code


def prepare(state_dir: str) -> None:
    """The state directory, without a previous run's shim.json and exit.json."""
    os.makedirs(state_dir, exist_ok=True)
    for name in (SHIM_FILE, EXIT_FILE):
        try:
            os.unlink(os.path.join(state_dir, name))
        except OSError:
            pass


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
    for sig in (_signal.SIGHUP, _signal.SIGINT, _signal.SIGPIPE):
        _signal.signal(sig, _signal.SIG_IGN)
    return True


def read_state(state_dir: str, name: str) -> "Optional[Dict[str, Any]]":
    """shim.json or exit.json of a container (None when absent or unreadable): the agent's."""
    import json

    try:
        with open(os.path.join(state_dir, name)) as f:
            value = json.load(f)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def launch(state_dir: str, log_path: str, argv: "List[str]", max_size: int = crilog.ROTATE_SIZE, pythonpath: str = "") -> None:
    """Start a detached shim for argv (from the agent); returns once it is on its way."""
    import subprocess

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    # -S: no site module, ~30 ms less per container start; -c, not -m: runpy's imports
    # cost ~10 ms more. The module's name stays an argument of its own: shim_alive and
    # people (ps) recognise a shim by it.
    code = "import sys; from kubeform.agent.runtime import shim; sys.exit(shim.main(sys.argv[2:]))"
    cmd = [sys.executable or "python3", "-S", "-c", code, "kubeform.agent.runtime.shim", "--state-dir", state_dir, "--log", log_path]
    cmd += ["--max-log-bytes", str(max_size), "--"] + argv
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, timeout=30,
        universal_newlines=True,
    )
    if proc.returncode != 0:
        raise OSError("shim failed to start: %s" % proc.stderr.strip()[-300:])


USAGE = "usage: shim --state-dir DIR --log PATH [--max-log-bytes N] [--foreground] -- ARGV..."


def parse_args(args: "List[str]") -> "Dict[str, Any]":
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


def main(args: "Optional[List[str]]" = None) -> int:
    try:
        opts = parse_args(sys.argv[1:] if args is None else args)
    except ValueError as exc:
        sys.stderr.write("shim: %s\n%s\n" % (exc, USAGE))
        return 2
    state_dir, log_path, argv = opts["state_dir"], opts["log"], opts["argv"]
    prepare(state_dir)
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
