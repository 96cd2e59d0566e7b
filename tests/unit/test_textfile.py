"""Reading input files: pipes, silent FIFOs, devices, non-UTF-8 bytes (kubeform.textfile)."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest

from kubeform import textfile
from kubeform.errors import UserError
from kubeform.store.manifests import load_sources


def test_regular_file_and_bom(tmp_path: Path) -> None:
    f = tmp_path / "a.yml"
    f.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert textfile.read_text(f) == "a: 1\n"


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "a.yml"
    f.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(UserError) as info:
        textfile.read_text(f)
    assert str(info.value) == f"{f}:2: not UTF-8 text: byte 0xe9 cannot be decoded (save the file as UTF-8)"


def test_silent_fifo_is_refused_not_waited_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textfile, "PIPE_WAIT", 0.2)
    fifo = tmp_path / "pb.yml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(UserError, match=r"nothing to read: the pipe stayed silent for 0\.2 s"):
        textfile.read_text(fifo)
    assert time.monotonic() - started < 5


def test_fifo_with_a_writer_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "m.yaml"
    os.mkfifo(fifo)

    def writer() -> None:
        with open(fifo, "wb") as fh:
            fh.write(b"kind: x\n")

    t = threading.Thread(target=writer)
    t.start()
    try:
        assert textfile.read_text(fifo) == "kind: x\n"
    finally:
        t.join(5)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_device_is_refused(device: str) -> None:
    with pytest.raises(UserError, match="cannot read file: a device, not a file"):
        textfile.read_text(device)


def test_directory_and_missing(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="a directory"):
        textfile.read_text(tmp_path)
    with pytest.raises(UserError, match="No such file"):
        textfile.read_text(tmp_path / "nope")


def test_manifest_on_stdin_not_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"kind: ConfigMap\ndata: {k: \xe9}\n")))
    with pytest.raises(UserError, match="<stdin>:2: not UTF-8 text"):
        load_sources(["-"])
