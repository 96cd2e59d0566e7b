"""The CRI container log format, as pure functions (used by the shim, read by `logs`).

Why this format: it is what the kubelet, containerd and cri-o write under /var/log/pods,
so `kubeform logs` (and any log shipper) reads one format whatever runtime ran the pod:

    2016-10-06T00:17:09.669794202Z stdout F a full line
    2016-10-06T00:17:09.669794202Z stdout P the first part of a long line

A line longer than MAX_LINE is cut into P records ended by one F; output that ends without
a newline at EOF is written as F (as containerd does).

Imports only ``time`` at run time (typing only for the checker): the shim, started once
per container, imports this module, and every import is start-up CPU on a busy node.
"""

import time

MYPY = False
if MYPY:  # pragma: no cover
    from typing import List, Tuple

MAX_LINE = 16 * 1024  # the kubelet's and containerd's buffer size
ROTATE_SIZE = 10 * 1024 * 1024  # --container-log-max-size default
ROTATE_KEEP = 1  # rotated files kept: <path>.<UTC stamp>


class Record(object):
    """One CRI record: tag "F" (full) or "P" (partial), content without the newline."""

    __slots__ = ("tag", "content")

    def __init__(self, tag: str, content: bytes) -> None:
        self.tag = tag
        self.content = content

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and (self.tag, self.content) == (other.tag, other.content)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((self.tag, self.content))

    def __repr__(self) -> str:
        return "Record(%r, %r)" % (self.tag, self.content)


def timestamp(now: float) -> str:
    """RFC 3339 with nanoseconds in UTC, as the CRI writes it (microsecond precision here)."""
    secs = int(now)
    nanos = round((now - secs) * 1e6) * 1000
    if nanos >= 1000000000:
        secs, nanos = secs + 1, nanos - 1000000000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%09dZ" % nanos


def format_record(ts: str, stream: str, record: Record) -> bytes:
    return ("%s %s %s " % (ts, stream, record.tag)).encode("ascii") + record.content + b"\n"


def format_line(ts: str, stream: str, text: str, partial: bool = False) -> str:
    """One CRI line as text, newline included (the docker driver's log shim uses it)."""
    return "%s %s %s %s\n" % (ts, stream, "P" if partial else "F", text)


def rotated_name(path: str, now: float) -> str:
    """Where a full log goes: <path>.<UTC stamp> (the kubelet's 0.log.20161006-001709)."""
    return "%s.%s" % (path, time.strftime("%Y%m%d-%H%M%S", time.gmtime(now)))


def split(buffer: bytes, data: bytes, max_line: int = MAX_LINE) -> "Tuple[List[Record], bytes]":
    """Add data to what is pending of a stream: the records now complete, and the rest.

    Full lines give F records; a pending part reaching max_line gives a P record so a line
    without end never grows the shim's memory.
    """
    buf = buffer + data
    out = []  # type: List[Record]
    while True:
        nl = buf.find(b"\n")
        if nl < 0:
            break
        line = buf[:nl]
        buf = buf[nl + 1:]
        while len(line) > max_line:
            out.append(Record("P", line[:max_line]))
            line = line[max_line:]
        out.append(Record("F", line))
    while len(buf) >= max_line:
        out.append(Record("P", buf[:max_line]))
        buf = buf[max_line:]
    return out, buf


def flush(buffer: bytes) -> "List[Record]":
    """At EOF: what is pending becomes one last F record (nothing if empty)."""
    return [Record("F", buffer)] if buffer else []


def should_rotate(size: int, incoming: int, max_size: int = ROTATE_SIZE) -> bool:
    """Rotate before a write that would take a non-empty file over max_size."""
    return size > 0 and size + incoming > max_size


def parse_line(line: str) -> "Tuple[str, str, str, str]":
    """(timestamp, stream, tag, content) of one CRI log line; for readers (logs, tests)."""
    if line.endswith("\n"):
        line = line[:-1]
    ts, stream, tag, content = (line.split(" ", 3) + ["", "", "", ""])[:4]
    return ts, stream, tag, content
