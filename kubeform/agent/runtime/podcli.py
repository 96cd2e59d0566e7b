"""The host end of ``kubeform logs`` and ``kubeform exec`` (run over SSH by kubeform/cli/pods.py).

Why a helper on the host rather than shell one-liners over SSH: reading the CRI format
(partial lines joined, only the text printed), picking the previous attempt, following a
file across rotation and into the next attempt, and asking the node's own driver how to
enter a container are the same code the agent runs, stdlib only:

    PYTHONPATH=/opt/kubeform python3 -m kubeform.agent.runtime.podcli logs \\
        --namespace NS --pod POD --uid UID --container C [--follow] [--previous] [--tail N]
    PYTHONPATH=/opt/kubeform python3 -m kubeform.agent.runtime.podcli exec \\
        --uid UID --container C [-i] [-t] -- CMD...

Errors are one line on stderr and exit 1 (exec: the command's own exit code otherwise).
"""

import argparse
import os
import select
import sys
import time
from typing import Any, BinaryIO, Callable, List, Optional

from . import crireader
from .crilog import parse_line

POLL_SECONDS = 0.2


class PodCliError(Exception):
    """A one-line reason for the operator (no such logs, container not running...)."""


# --- logs --------------------------------------------------------------------------------
def read_texts(path: str) -> List[str]:
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        return crireader.texts(f.readlines())


class Follower(object):
    """Reads a container's log directory as it grows: the current attempt's file, across
    its rotation (the path gets a new inode: drain the old file, then read the new one
    from its start), and on into the next attempt's file when one appears."""

    def __init__(self, directory: str, attempt: int, write: Callable[[str], None]) -> None:
        self.directory = directory
        self.attempt = attempt
        self.write = write
        self.f = None  # type: Optional[BinaryIO]
        self.buf = b""
        self.pending = ""  # text of P lines waiting for their F

    def path(self) -> str:
        return os.path.join(self.directory, "%d.log" % self.attempt)

    def open_at(self, offset: int) -> None:
        self.f = open(self.path(), "rb")
        self.f.seek(offset)

    def drain(self) -> None:
        """Emit every complete line available now."""
        assert self.f is not None
        while True:
            chunk = self.f.read(65536)
            if not chunk:
                break
            self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for raw in lines:
            _ts, stream, tag, content = parse_line(raw.decode("utf-8", "replace"))
            if stream not in ("stdout", "stderr") or tag not in ("F", "P"):
                continue
            if tag == "P":
                self.pending += content
                continue
            self.write(self.pending + content + "\n")
            self.pending = ""

    def step(self) -> None:
        """One poll: new lines, then rotation or a newer attempt."""
        assert self.f is not None
        self.drain()
        try:
            names = os.listdir(self.directory)
        except OSError:
            names = []
        newer = [a for a in crireader.attempts(names) if a > self.attempt]
        try:
            rotated = os.stat(self.path()).st_ino != os.fstat(self.f.fileno()).st_ino
        except OSError:
            rotated = False  # between rename and re-create: look again next time
        if rotated or newer:
            self.drain()
            self.f.close()
            self.buf = b""
            if not rotated:
                self.attempt = newer[0]
            self.open_at(0)

    def run(self, stop: Callable[[], bool], sleep: Callable[[float], None] = time.sleep) -> None:
        while not stop():
            self.step()
            sleep(POLL_SECONDS)


def logs(
    root: str,
    namespace: str,
    pod: str,
    uid: str,
    container: str,
    previous: bool,
    tail_n: Optional[int],
    follow: bool,
    out: Any,
    stop: Optional[Callable[[], bool]] = None,
) -> None:
    directory = crireader.log_dir(root, namespace, pod, uid, container)
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    attempt, _why = crireader.choose_attempt(names, previous)
    if attempt is None:
        if previous:
            raise PodCliError('previous terminated container "%s" in pod "%s" not found' % (container, pod))
        raise PodCliError('container "%s" in pod "%s" has no logs on this node yet' % (container, pod))
    path = os.path.join(directory, "%d.log" % attempt)

    def write(text: str) -> None:
        out.write(text.encode("utf-8"))
        out.flush()

    with open(path, "rb") as f:
        data = f.read()
    complete = data[: data.rfind(b"\n") + 1]
    lines = crireader.texts(complete.decode("utf-8", "replace").splitlines(True))
    if lines:
        write("".join(t + "\n" for t in crireader.tail(lines, tail_n)))
    if not follow or previous:
        return
    follower = Follower(directory, attempt, write)
    follower.open_at(len(complete))
    follower.run(stop or (lambda: reader_gone(out.fileno())))


def reader_gone(fd: int) -> bool:
    """Whether the reader of our stdout went away (the SSH session of ``kubeform logs -f``
    ended): a pipe's write end then polls as POLLERR. Without this check a follower with
    nothing to print would outlive its client forever."""
    try:
        p = select.poll()
        p.register(fd, select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, ev in p.poll(0))
    except (OSError, ValueError):
        return True


# --- exec --------------------------------------------------------------------------------
def make_driver(config_path: str) -> Any:
    """The node's driver, as the agent's config names it."""
    from ..config import load_config

    cfg = load_config(config_path)
    if cfg.runtime == "docker":
        from .docker import DockerDriver

        return DockerDriver.from_config(cfg)
    from .crun import CrunDriver

    return CrunDriver(cfg)


def exec_command(driver: Any, uid: str, container: str, argv: List[str], tty: bool, stdin: bool) -> List[str]:
    """The host argv entering the pod's running container (the newest attempt)."""
    running = [c for c in driver.list_containers() if c.pod_uid == uid and c.name == container and c.state == "running"]
    if not running:
        raise PodCliError('container "%s" is not running (on this node)' % container)
    newest = max(running, key=lambda c: c.attempt)
    return list(driver.exec_argv(newest.id, argv, tty, stdin))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="podcli")
    sub = parser.add_subparsers(dest="verb")
    p = sub.add_parser("logs")
    p.add_argument("--namespace", required=True)
    p.add_argument("--pod", required=True)
    p.add_argument("--uid", required=True)
    p.add_argument("--container", required=True)
    p.add_argument("--follow", action="store_true")
    p.add_argument("--previous", action="store_true")
    p.add_argument("--tail", type=int, default=None)
    p.add_argument("--log-dir", default="/var/log/pods")
    p = sub.add_parser("exec")
    p.add_argument("--uid", required=True)
    p.add_argument("--container", required=True)
    p.add_argument("-i", "--stdin", action="store_true")
    p.add_argument("-t", "--tty", action="store_true")
    p.add_argument("--config", default="/etc/kubeform/agent.json")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.verb == "logs":
            logs(
                args.log_dir,
                args.namespace,
                args.pod,
                args.uid,
                args.container,
                args.previous,
                args.tail,
                args.follow,
                sys.stdout.buffer,
            )
            return 0
        if args.verb == "exec":
            command = args.command[1:] if args.command[:1] == ["--"] else args.command
            if not command:
                raise PodCliError("exec: no command given (kubeform exec POD -- CMD...)")
            host_argv = exec_command(make_driver(args.config), args.uid, args.container, command, args.tty, args.stdin)
            sys.stdout.flush()
            os.execvp(host_argv[0], host_argv)
        parser.print_help()
        return 1
    except PodCliError as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 1
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
