"""Reading a user's input file as text: regular files, pipes, never a hang or a decode crash.

Every input the operator names (inventory, playbook, vars file, manifest, ``-e @file``)
comes through here, so the same mistakes get the same one-line message:

- a device (``/dev/zero``, a tty) is refused: reading it never ends or means nothing;
- a pipe (``-f <(cmd)``, a named FIFO) is read, but a pipe that stays silent for
  ``PIPE_WAIT`` seconds (a FIFO nobody writes to) is refused instead of blocking forever;
- bytes that are not UTF-8 name the line of the first bad byte (a Latin-1 playbook);
- a UTF-8 byte-order mark is dropped (Windows editors write one).
"""

from __future__ import annotations

import os
import select
import stat
from pathlib import Path

from kubeform.errors import UserError

# How long a pipe may stay silent before reading it is given up (seconds).
PIPE_WAIT = 10.0


def decode(data: bytes, file: str) -> str:
    """``data`` as text; bytes that are not UTF-8 are a UserError naming their line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise UserError(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} cannot be decoded (save the file as UTF-8)",
            file=file,
            line=line,
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _kind(mode: int) -> str | None:
    """What a non-regular, non-pipe file is, for the message; None when it may be read."""
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_pipe(fd: int, file: str, wait: float) -> bytes:
    """Everything a pipe gives until its writer closes it; a silent pipe is refused."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            raise UserError(
                f"nothing to read: the pipe stayed silent for {wait:g} s (is anything writing to it?)",
                file=file,
            )
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        if not chunk:
            # A named FIFO whose writer has not opened it yet reads as empty too; but an
            # empty read after select said "ready" is an end of file in every other case.
            return b"".join(chunks)
        chunks.append(chunk)


def read_bytes(path: str | Path, *, what: str = "file") -> bytes:
    """The bytes of a regular file or a pipe; anything else is a one-line UserError."""
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise UserError(f"cannot read {what}: {err.strerror}", file=name) from None
    try:
        mode = os.fstat(fd).st_mode
        kind = _kind(mode)
        if kind is not None:
            raise UserError(f"cannot read {what}: {kind}, not a file", file=name)
        if stat.S_ISFIFO(mode):
            return _read_pipe(fd, name, PIPE_WAIT)
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    except OSError as err:
        raise UserError(f"cannot read {what}: {err.strerror}", file=name) from None
    finally:
        os.close(fd)


def read_text(path: str | Path, *, what: str = "file") -> str:
    """The UTF-8 text of a regular file or a pipe (see ``read_bytes`` and ``decode``)."""
    return decode(read_bytes(path, what=what), str(path))
