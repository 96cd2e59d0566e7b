"""Time zones read from TZif files, checked against Python's zoneinfo (the reference)."""

from __future__ import annotations

import datetime
import random
import struct
import zoneinfo

import pytest

from kubeform.api import tzif

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Apia", "America/Santiago", "Europe/Dublin", "Pacific/Chatham"]


@pytest.mark.parametrize("name", ZONES)
def test_offsets_match_zoneinfo(name: str) -> None:
    zone, ref = tzif.load(name), zoneinfo.ZoneInfo(name)
    rng = random.Random(name)
    for _ in range(400):
        t = rng.randint(-2_000_000_000, 4_200_000_000)
        assert zone.offset(t) == int(datetime.datetime.fromtimestamp(t, ref).utcoffset().total_seconds()), t


@pytest.mark.parametrize("name", ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Chatham", "America/Santiago"])
def test_posix_footer_alone_after_the_last_transition(name: str) -> None:
    """A "slim" file: transitions end early and the footer rule covers the rest."""
    fat, ref = tzif.load(name), zoneinfo.ZoneInfo(name)
    cut = 1_704_067_200  # 2024-01-01: every zone here has kept its rule since
    keep = [i for i, t in enumerate(fat.transitions) if t < cut]
    slim = tzif.Zone(name, [fat.transitions[i] for i in keep], [fat.offsets[i] for i in keep], fat.first_offset, fat.posix)
    rng = random.Random(name)
    for _ in range(400):
        t = rng.randint(cut + 366 * 86400, 4_200_000_000)
        assert slim.offset(t) == int(datetime.datetime.fromtimestamp(t, ref).utcoffset().total_seconds()), t


@pytest.mark.parametrize(
    "text,want",
    [
        ("UTC0", tzif.Posix(0, None, None, None)),
        ("<+0330>-3:30", tzif.Posix(12600, None, None, None)),
        ("CET-1CEST,M3.5.0,M10.5.0/3", tzif.Posix(3600, 7200, tzif.Rule("M", 3, 5, 0, 7200), tzif.Rule("M", 10, 5, 0, 10800))),
        ("EST5EDT,M3.2.0,M11.1.0", tzif.Posix(-18000, -14400, tzif.Rule("M", 3, 2, 0, 7200), tzif.Rule("M", 11, 1, 0, 7200))),
        ("IST-2IDT,M3.4.4/26,M10.5.0", tzif.Posix(7200, 10800, tzif.Rule("M", 3, 4, 4, 93600), tzif.Rule("M", 10, 5, 0, 7200))),
        ("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", tzif.Posix(-10800, -7200, tzif.Rule("M", 3, 5, 0, -7200), tzif.Rule("M", 10, 5, 0, -3600))),
        ("XXX3YYY,J60/0,300", tzif.Posix(-10800, -7200, tzif.Rule("J", 60, 0, 0, 0), tzif.Rule("N", 300, 0, 0, 7200))),
    ],
)
def test_parse_posix(text: str, want: tzif.Posix) -> None:
    assert tzif.parse_posix(text) == want


def test_version_1_file_without_footer() -> None:
    """A hand-made TZif v1: one transition from +01:00 to +02:00 at t=1000."""
    header = b"TZif" + b"\0" * 16 + struct.pack(">6l", 0, 0, 0, 1, 2, 8)
    body = struct.pack(">l", 1000) + bytes([1]) + struct.pack(">lBB", 3600, 0, 0) + struct.pack(">lBB", 7200, 1, 4) + b"AAA\0BBB\0"
    zone = tzif.parse_tzif("test", header + body)
    assert zone.lookup(999) == (3600, tzif.NEVER_START, 1000)
    assert zone.lookup(1000) == (7200, 1000, tzif.NEVER_END)


@pytest.mark.parametrize("name", ["Local", "../etc/passwd", "/etc/localtime", "Mars/Olympus", "Europe/"])
def test_unknown_zones(name: str) -> None:
    with pytest.raises(tzif.ZoneError):
        tzif.load(name)


def test_not_tzif(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Bad").write_bytes(b"hello")
    with pytest.raises(tzif.ZoneError, match="not a TZif file"):
        tzif.load("Bad", root=str(tmp_path))
    assert tzif.load("UTC") is tzif.UTC
