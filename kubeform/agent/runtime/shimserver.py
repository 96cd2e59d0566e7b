"""Shims forked from one waiting Python process instead of a Python start per container.

Why: starting a shim was a Python start-up (about 12 ms of a core on a lab host) for every
container, a third of what a pod start costs its node in child processes. The agent
instead keeps one small server process (``python3 -S -c ... kubeform.agent.runtime.shim
--server``) that has imported the shim once; asked to launch, it detaches a fork of
itself exactly as a shim detaches (double fork + setsid), and that fork serves the
container (shim.serve). A fork of a single-threaded process that has nothing else loaded
costs about a millisecond.

Protocol: one JSON line per request on the server's stdin ({"state_dir", "log",
"max_log_bytes", "argv"}), one line back: "ok" or "error: <why>". The server exits at
EOF (its agent went away; a restarted agent starts its own). Anything unexpected from the
server and the ``Launcher`` starts the shim the old way, as a process of its own, so a
broken server never stops a pod from starting.

A forked shim's /proc cmdline is the server's, without its bundle directory, so shim.json
records the shim's start time too (``shim_start``) and crun.shim_alive checks pid and
start time (see procstat.started_ticks).
"""

import json
import os
import subprocess
import sys
import threading
from typing import IO, Any, Dict, List, Optional

from . import crilog, shim

SERVER_ARG = "--server"


def serve_requests(inp: "IO[bytes]", out: "IO[bytes]") -> int:
    """The server's loop: each request detaches a shim; returns at EOF."""
    while True:
        line = inp.readline()
        if not line:
            return 0
        try:
            req = json.loads(line.decode("utf-8"))
            state_dir, log_path = str(req["state_dir"]), str(req["log"])
            argv = [str(a) for a in req["argv"]]
            max_size = int(req.get("max_log_bytes", crilog.ROTATE_SIZE))
            if not argv:
                raise ValueError("no command")
            shim.prepare(state_dir)
        except (ValueError, KeyError, TypeError, OSError) as exc:
            out.write(("error: %s\n" % exc).encode("utf-8"))
            out.flush()
            continue
        if shim.detach():  # the grandchild: this is now the container's shim
            try:
                shim.serve(state_dir, log_path, argv, max_size)
            finally:
                os._exit(0)
        out.write(b"ok\n")
        out.flush()


def main() -> int:
    return serve_requests(sys.stdin.buffer, sys.stdout.buffer)


class Launcher(object):
    """The agent's side: one server, started on first use and again when it died."""

    def __init__(self, pythonpath: str = "") -> None:
        self.pythonpath = pythonpath
        self.lock = threading.Lock()
        self.proc = None  # type: Optional[subprocess.Popen[bytes]]

    def _start(self) -> "subprocess.Popen[bytes]":
        env = dict(os.environ)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        code = "import sys; from kubeform.agent.runtime import shimserver; sys.exit(shimserver.main())"
        # the module's name is an argument of its own: people (ps) and shim_alive know it
        return subprocess.Popen(
            [sys.executable or "python3", "-S", "-c", code, "kubeform.agent.runtime.shim", SERVER_ARG],
            # stderr too: the server must hold none of its starter's descriptors (an SSH
            # session, a test's pipe), or whoever waits for them to close waits for ever
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True, cwd="/",
        )

    def _ask(self, request: bytes) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(request)
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().decode("utf-8", "replace").strip()
        if not answer:
            raise OSError("the shim server ended")
        return answer

    def launch(self, state_dir: str, log_path: str, argv: List[str], max_size: int = crilog.ROTATE_SIZE) -> None:
        """Start a detached shim for argv; returns once it is on its way (as shim.launch)."""
        req = {"state_dir": state_dir, "log": log_path, "max_log_bytes": max_size, "argv": argv}  # type: Dict[str, Any]
        request = (json.dumps(req) + "\n").encode("utf-8")
        answer = ""
        with self.lock:
            for _ in range(2):  # a server that died since the last launch is started again once
                try:
                    answer = self._ask(request)
                    break
                except (OSError, ValueError):
                    self.close()
        if answer == "ok":
            return
        if answer.startswith("error: "):
            raise OSError("shim failed to start: %s" % answer[len("error: "):])
        shim.launch(state_dir, log_path, argv, max_size, pythonpath=self.pythonpath)  # no server: the old way

    def close(self) -> None:
        """Let the server go (it exits at EOF); shims it started keep running."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for f in (proc.stdin, proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
