"""The docker driver's log shim: ``docker logs -f --timestamps`` turned into a CRI log file.

Why this way (docs/runtime.md, "docker logs"): docker keeps its own json-file log (so
``docker logs`` still works, and nothing is lost while no reader runs); this shim follows it
through the docker CLI, which handles docker's own rotation, and writes the kubelet's
layout and format that ``kubeform logs`` reads for both runtimes. stdout and stderr come on
separate pipes, so each line keeps its stream; the timestamp is docker's (when the line was
written), not when the shim read it. It exits when the container stops (``docker logs -f``
ends), so there is nothing to clean up. Run detached by docker.py:

    python3 -m kubeform.agent.runtime.dockerlogs CONTAINER_ID LOG_PATH

Limitation: docker splits lines longer than 16 KiB into partial messages and ``docker
logs`` prints them back without telling which are partial; such a line is written as
several F lines.
"""

import argparse
import os
import select
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

from .crilog import ROTATE_KEEP, ROTATE_SIZE, format_line, timestamp
from .shim import RotatingLog



def split_docker_line(line: str) -> Tuple[str, str]:
    """(time, text) of one ``docker logs --timestamps`` line (text without its newline)."""
    if line.endswith("\n"):
        line = line[:-1]
    time, sep, text = line.partition(" ")
    if not sep or not time[:1].isdigit() or "T" not in time:
        return "", line
    return time, text


def to_cri(line: str, stream: str, now: str) -> str:
    """The CRI line for one docker line; P when the output had no newline (yet)."""
    time, text = split_docker_line(line)
    return format_line(time or now, stream, text, partial=not line.endswith("\n"))


def _now() -> str:
    return timestamp(time.time())


def follow(docker: str, container: str, out: RotatingLog) -> int:
    """Copy until docker logs ends; the exit code of ``docker logs``."""
    proc = subprocess.Popen(
        [docker, "logs", "-f", "--timestamps", container],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}  # type: Dict[int, str]
    buffers = {fd: b"" for fd in streams}  # type: Dict[int, bytes]
    open_fds = list(streams)  # type: List[int]
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [])
        batch = []  # type: List[Tuple[Tuple[str, str], str, bytes]]
        for fd in ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                open_fds.remove(fd)
                if buffers[fd]:
                    batch.append((time_key(buffers[fd]), streams[fd], buffers[fd]))
                    buffers[fd] = b""
                continue
            data = buffers[fd] + chunk
            *lines, rest = data.split(b"\n")
            batch.extend((time_key(line), streams[fd], line + b"\n") for line in lines)
            buffers[fd] = rest
        # both streams read in one round: written in docker's time order, not pipe order
        for _key, stream, line in sorted(batch, key=lambda item: item[0]):
            _emit(out, stream, line)
    return proc.wait()


def time_key(line: bytes) -> Tuple[str, str]:
    """A sort key for docker's timestamp prefix (its fraction drops trailing zeros, so the
    text alone does not sort): (seconds part, fraction padded to 9 digits)."""
    stamp = line.split(b" ", 1)[0].decode("ascii", "replace").rstrip("Z")
    whole, _, frac = stamp.partition(".")
    return whole, frac.ljust(9, "0")


def _emit(out: RotatingLog, stream: str, raw: bytes) -> None:
    line = raw.decode("utf-8", "replace")
    out.write(to_cri(line, stream, _now()).encode("utf-8"))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="dockerlogs", description=__doc__.split("\n")[0])
    parser.add_argument("container")
    parser.add_argument("log_path")
    parser.add_argument("--docker", default="docker")
    parser.add_argument("--max-bytes", type=int, default=ROTATE_SIZE)
    parser.add_argument("--keep", type=int, default=ROTATE_KEEP)
    args = parser.parse_args(argv)
    out = RotatingLog(args.log_path, args.max_bytes, args.keep)
    try:
        return follow(args.docker, args.container, out)
    finally:
        out.close()


if __name__ == "__main__":
    sys.exit(main())
