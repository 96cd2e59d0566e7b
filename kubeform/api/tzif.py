"""Time zones from the system's TZif files, with the standard library of Python 3.6.

Why: a CronJob's ``timeZone`` ("Europe/Berlin") decides when its wall-clock schedule
fires, daylight saving time included; ``zoneinfo`` is Python 3.9+ and the masters may run
3.6. So this reads ``/usr/share/zoneinfo/<name>`` itself (RFC 8536: version 1 data, the
64-bit version 2+ data, and the POSIX TZ footer that "slim" files rely on for every time
after their last transition, e.g. ``CET-1CEST,M3.5.0,M10.5.0/3``).

A Zone answers one question, as Go's time.Location does (the CronJob schedule follows
Go's arithmetic, see cron.py): which UTC offset applies at a UTC instant, and the period
[start, end) over which that offset holds. Times are integer seconds since the epoch.
Pure apart from ``load``, which reads a file once per name (zone data is treated like
code: read once, kept).
"""

import bisect
import os
import re
import struct
import threading
from typing import Dict, List, NamedTuple, Optional, Tuple

ROOT = "/usr/share/zoneinfo"
#: Go's alpha/omega: a period with no known start or end.
NEVER_START = -(1 << 63)
NEVER_END = (1 << 63) - 1


class ZoneError(Exception):
    """An unknown zone name or a file that is not TZif."""


class Rule(NamedTuple):
    """A POSIX TZ rule date: kind "J" (1-365, no Feb 29), "N" (0-365) or "M" (month, week,
    weekday), and the local time of day in seconds at which it applies."""

    kind: str
    a: int
    b: int
    c: int
    time: int


class Posix(NamedTuple):
    """A POSIX TZ string: standard offset (seconds east of UTC) and, with DST, its offset
    and the rules that start and end it."""

    std_offset: int
    dst_offset: Optional[int]
    start: Optional[Rule]
    end: Optional[Rule]


# -- POSIX TZ strings ----------------------------------------------------------------------

_NAME = r"(?:<[^>]*>|[A-Za-z]{3,})"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?"


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _rule(text: str) -> Rule:
    date, _, time_text = text.partition("/")
    at = _seconds(time_text) if time_text else 7200
    if date.startswith("M"):
        m, w, d = (int(x) for x in date[1:].split("."))
        if not (1 <= m <= 12 and 1 <= w <= 5 and 0 <= d <= 6):
            raise ZoneError("bad POSIX TZ rule %r" % text)
        return Rule("M", m, w, d, at)
    if date.startswith("J"):
        return Rule("J", int(date[1:]), 0, 0, at)
    return Rule("N", int(date), 0, 0, at)


def parse_posix(text: str) -> Posix:
    """A POSIX TZ string (the TZif footer); ZoneError when it is not one."""
    m = re.match(r"^(%s)(%s)(?:(%s)(%s)?(?:,([^,]+),([^,]+))?)?$" % (_NAME, _OFFSET, _NAME, _OFFSET), text)
    if m is None:
        raise ZoneError("bad POSIX TZ string %r" % text)
    std = -_seconds(m.group(2))
    if m.group(3) is None:
        return Posix(std, None, None, None)
    dst = -_seconds(m.group(4)) if m.group(4) else std + 3600
    start = _rule(m.group(5) or "M3.2.0")  # the US rules: POSIX's implementation-defined default
    end = _rule(m.group(6) or "M11.1.0")
    return Posix(std, dst, start, end)


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y -= 1 if m <= 2 else 0
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> Tuple[int, int, int]:
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (1 if m <= 2 else 0), m, d)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def rule_local(rule: Rule, year: int) -> int:
    """The rule's moment in ``year`` as local seconds (local wall clock counted as if UTC)."""
    if rule.kind == "J":
        day = rule.a - 1
        if _leap(year) and rule.a >= 60:
            day += 1
        days = days_from_civil(year, 1, 1) + day
    elif rule.kind == "N":
        days = days_from_civil(year, 1, 1) + rule.a
    else:
        month, week, weekday = rule.a, rule.b, rule.c
        first = days_from_civil(year, month, 1)
        first_weekday = (first + 4) % 7  # 1970-01-01 was a Thursday
        day = (weekday - first_weekday) % 7
        length = _MONTH_DAYS[month - 1] + (1 if month == 2 and _leap(year) else 0)
        day += 7 * (week - 1)
        while day >= length:
            day -= 7
        days = first + day
    return days * 86400 + rule.time


def _posix_transitions(p: Posix, year: int) -> List[Tuple[int, int]]:
    """(UTC instant, offset from then on) of the DST changes in ``year``, in order."""
    if p.dst_offset is None or p.start is None or p.end is None:
        return []
    start = rule_local(p.start, year) - p.std_offset
    end = rule_local(p.end, year) - p.dst_offset
    return sorted([(start, p.dst_offset), (end, p.std_offset)])


def posix_lookup(p: Posix, utc: int) -> Tuple[int, int, int]:
    """(offset, start, end) at ``utc`` under the rule alone."""
    if p.dst_offset is None:
        return p.std_offset, NEVER_START, NEVER_END
    year = civil_from_days((utc + p.std_offset) // 86400)[0]
    changes: List[Tuple[int, int]] = []
    for y in (year - 1, year, year + 1):
        changes += _posix_transitions(p, y)
    changes.sort()
    offset, start, end = changes[0][1], NEVER_START, NEVER_END
    for i, (when, new) in enumerate(changes):
        if when <= utc:
            offset, start = new, when
            end = changes[i + 1][0] if i + 1 < len(changes) else NEVER_END
    if start == NEVER_START:  # before the first change we listed: the offset before it
        first_new = changes[0][1]
        offset = p.std_offset if first_new == p.dst_offset else p.dst_offset
        end = changes[0][0]
    return offset, start, end


# -- TZif ----------------------------------------------------------------------------------


class Zone(object):
    """Offsets of one zone: transitions (UTC instants) and, after them, a POSIX rule."""

    def __init__(self, name: str, transitions: List[int], offsets: List[int], first_offset: int, posix: Optional[Posix]) -> None:
        self.name = name
        self.transitions = transitions  # sorted UTC instants
        self.offsets = offsets  # offset from each transition on
        self.first_offset = first_offset  # before the first transition
        self.posix = posix

    def lookup(self, utc: int) -> Tuple[int, int, int]:
        """(offset east of UTC in seconds, start, end) of the period holding ``utc``."""
        i = bisect.bisect_right(self.transitions, utc)
        if i == 0:
            end = self.transitions[0] if self.transitions else NEVER_END
            if not self.transitions and self.posix is not None:
                return posix_lookup(self.posix, utc)
            return self.first_offset, NEVER_START, end
        if i == len(self.transitions):
            last = self.transitions[-1]
            if self.posix is not None:
                offset, start, end = posix_lookup(self.posix, utc)
                return offset, max(start, last), end
            return self.offsets[-1], last, NEVER_END
        return self.offsets[i - 1], self.transitions[i - 1], self.transitions[i]

    def offset(self, utc: int) -> int:
        return self.lookup(utc)[0]


UTC = Zone("UTC", [], [], 0, None)


def parse_tzif(name: str, data: bytes) -> Zone:
    """A Zone from the bytes of a TZif file; ZoneError when they are not one."""
    if len(data) < 44 or data[:4] != b"TZif":
        raise ZoneError("%s: not a TZif file" % name)
    version = data[4:5]

    def block(offset: int, time_size: int) -> Tuple[int, List[int], List[int], List[Tuple[int, int]]]:
        isut, isstd, leap, timecnt, typecnt, charcnt = struct.unpack(">6l", data[offset + 20 : offset + 44])
        pos = offset + 44
        fmt = ">%d%s" % (timecnt, "q" if time_size == 8 else "l")
        times = list(struct.unpack(fmt, data[pos : pos + timecnt * time_size]))
        pos += timecnt * time_size
        indexes = list(data[pos : pos + timecnt])
        pos += timecnt
        types = []
        for i in range(typecnt):
            utoff, isdst, _ = struct.unpack(">lBB", data[pos + 6 * i : pos + 6 * i + 6])
            types.append((utoff, isdst))
        pos += 6 * typecnt + charcnt + leap * (time_size + 4) + isstd + isut
        return pos, times, indexes, types

    try:
        end, times, indexes, types = block(0, 4)
        posix: Optional[Posix] = None
        if version >= b"2":
            end, times, indexes, types = block(end, 8)
            footer = data[end:].split(b"\n")
            if len(footer) >= 2 and footer[1]:
                posix = parse_posix(footer[1].decode("ascii"))
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as exc:
        raise ZoneError("%s: damaged TZif file (%s)" % (name, exc)) from None
    if not types:
        raise ZoneError("%s: TZif file without local time types" % name)
    offsets = [types[i][0] for i in indexes]
    return Zone(name, times, offsets, types[0][0], posix)


_VALID = re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$")
_CACHE: Dict[Tuple[str, str], Zone] = {}
_LOCK = threading.Lock()


def load(name: str, root: str = ROOT) -> Zone:
    """The zone ``name`` (an IANA name such as "Europe/Berlin"), read once from ``root``."""
    if name in ("UTC", "Etc/UTC"):
        return UTC
    if not _VALID.match(name) or name == "Local" or ".." in name:
        raise ZoneError("unknown time zone %r" % name)
    with _LOCK:
        zone = _CACHE.get((root, name))
    if zone is not None:
        return zone
    path = os.path.join(root, name)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        raise ZoneError("unknown time zone %r (no %s)" % (name, path)) from None
    zone = parse_tzif(name, data)
    with _LOCK:
        _CACHE[(root, name)] = zone
    return zone
