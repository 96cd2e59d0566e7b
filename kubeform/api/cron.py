"""CronJob schedules: the standard five fields, parsed and stepped as Kubernetes does.

Kubernetes parses ``spec.schedule`` with robfig/cron's standard parser and asks its
``Next(t)``; this is that, in Python 3.6 (shared by the reconciler and ``kubeform apply``'s
validation, so both accept the same schedules):

- fields ``minute hour day-of-month month day-of-week``: ``*`` (``?`` too), numbers, ranges
  ``a-b``, steps ``*/n``, ``a-b/n`` and ``a/n`` (= ``a-max/n``), lists ``,``; month names
  JAN-DEC and weekday names SUN-SAT, any case; weekdays 0-6 (7 is refused, as robfig does);
- ``@yearly`` (``@annually``), ``@monthly``, ``@weekly``, ``@daily`` (``@midnight``),
  ``@hourly``;
- ``@every <duration>`` (a Go duration: ``90s``, ``1h30m``, ``1.5h``; units ns, us, ms, s,
  m, h), which robfig's standard parser accepts and Kubernetes' CronJob controller runs
  (its mostRecentScheduleTime handles "the ones specified with @every form"): a constant
  delay, whole seconds, at least one second, counted from the previous time (the
  CronJob's creation or last schedule time), not aligned to the clock;
- not supported: ``TZ=``/``CRON_TZ=`` prefixes (Kubernetes refuses them too: use
  ``spec.timeZone``);
- day-of-month and day-of-week: when either is ``*`` (or ``?``) both must match, otherwise
  either may (cron's rule);
- ``next_time`` walks the wall clock of the zone as robfig does with Go's time package
  (months, then days, then hours, minutes), so daylight saving time behaves as upstream:
  a time that does not exist on the day clocks go forward is skipped, and one that occurs
  twice when they go back runs twice.

Times are integer seconds since the epoch (UTC); zones come from tzif.py. Pure.
"""

import re
from typing import FrozenSet, List, NamedTuple, Optional, Set, Tuple, Union

from .tzif import UTC, Zone, civil_from_days, days_from_civil

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
DESCRIPTORS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
#: robfig gives up after five years without a match (e.g. "0 0 30 2 *").
YEAR_LIMIT = 5


class ScheduleError(ValueError):
    """A schedule that does not parse; the message says which field and why."""


class Schedule(NamedTuple):
    """The set of allowed values of each field, and whether the day fields were ``*``."""

    minutes: FrozenSet[int]
    hours: FrozenSet[int]
    days: FrozenSet[int]
    months: FrozenSet[int]
    weekdays: FrozenSet[int]
    dom_star: bool
    dow_star: bool


class Every(NamedTuple):
    """``@every <duration>``: robfig's ConstantDelaySchedule, in whole seconds (>= 1)."""

    seconds: int


#: what ``parse`` returns: the five fields, or a constant delay
AnySchedule = Union[Schedule, Every]

EVERY = "@every "
#: Go's time.ParseDuration units, in nanoseconds
_UNITS = {"ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_MAX_NANOS = 2**63 - 1


def parse_go_duration(text: str) -> int:
    """Nanoseconds of a Go duration string (time.ParseDuration); ScheduleError with Go's
    message when it is not one."""
    invalid = ScheduleError('time: invalid duration "%s"' % text)
    rest = text
    negative = rest[:1] == "-"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None or not (match.group(1) or match.group(2)):
            raise invalid
        whole, frac, unit = match.group(1), match.group(2), match.group(3)
        if not unit:
            raise ScheduleError('time: missing unit in duration "%s"' % text)
        if unit not in _UNITS:
            raise ScheduleError('time: unknown unit "%s" in duration "%s"' % (unit, text))
        scale = _UNITS[unit]
        total += int(whole or "0") * scale + (int(frac) * scale // 10 ** len(frac) if frac else 0)
        if total > _MAX_NANOS:
            raise invalid
        rest = rest[match.end():]
    return -total if negative else total


def every(text: str) -> Every:
    """robfig's Every: the duration rounded down to whole seconds, at least one second."""
    try:
        nanos = parse_go_duration(text)
    except ScheduleError as exc:
        raise ScheduleError("failed to parse duration %s%s: %s" % (EVERY, text, exc)) from None
    return Every(max(1, nanos // 10**9))


def _number(text: str, names: Tuple[str, ...], base: int, field: str) -> int:
    upper = text.upper()
    if names and upper in names:
        return names.index(upper) + base
    if not text.isdigit():
        raise ScheduleError("failed to parse int from %s: %s field" % (text, field))
    return int(text)


def _field(text: str, field: str, low: int, high: int) -> Tuple[FrozenSet[int], bool]:
    names: Tuple[str, ...] = MONTHS if field == "month" else DAYS if field == "day of week" else ()
    base = 1 if field == "month" else 0
    values: Set[int] = set()
    star = False
    for part in text.split(","):
        if not part:
            raise ScheduleError("empty item in the %s field %r" % (field, text))
        range_text, slash, step_text = part.partition("/")
        lo_text, dash, hi_text = range_text.partition("-")
        part_star = False
        if range_text in ("*", "?"):
            start, end = low, high
            part_star = True
        else:
            start = _number(lo_text, names, base, field)
            end = _number(hi_text, names, base, field) if dash else start
        step = 1
        if slash:
            if not step_text.isdigit():
                raise ScheduleError("failed to parse int from %s: %s field" % (step_text, field))
            step = int(step_text)
            if not dash and not part_star:
                end = high  # "a/n" means "a-max/n"
            if step > 1:
                part_star = False
        if start < low:
            raise ScheduleError("beginning of range (%d) below minimum (%d): %s" % (start, low, part))
        if end > high:
            raise ScheduleError("end of range (%d) above maximum (%d): %s" % (end, high, part))
        if start > end:
            raise ScheduleError("beginning of range (%d) beyond end of range (%d): %s" % (start, end, part))
        if step == 0:
            raise ScheduleError("step of range should be a positive number: %s" % part)
        values.update(range(start, end + 1, step))
        star = star or part_star
    return frozenset(values), star


def parse(text: str) -> AnySchedule:
    """A schedule from ``spec.schedule``; ScheduleError says what is wrong."""
    spec = text.strip()
    if not spec:
        raise ScheduleError("empty spec string")
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        raise ScheduleError("TZ and CRON_TZ are not supported in the schedule: use spec.timeZone")
    if spec.startswith(EVERY):
        return every(spec[len(EVERY):])
    if spec.startswith("@"):
        if spec not in DESCRIPTORS:
            raise ScheduleError("unrecognized descriptor: %s" % spec)
        spec = DESCRIPTORS[spec]
    parts = spec.split()
    if len(parts) != 5:
        raise ScheduleError("expected exactly 5 fields, found %d: %s" % (len(parts), text))
    parsed = [_field(parts[i], name, low, high) for i, (name, low, high) in enumerate(FIELDS)]
    return Schedule(
        parsed[0][0], parsed[1][0], parsed[2][0], parsed[3][0], parsed[4][0], parsed[2][1], parsed[4][1]
    )


# -- Go's time arithmetic on a zone's wall clock -------------------------------------------


class _Local(NamedTuple):
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # 0 = Sunday


def local(t: int, zone: Zone) -> _Local:
    """The wall clock of ``zone`` at UTC instant ``t`` (Go's t.In(loc) fields)."""
    wall = t + zone.offset(t)
    days, secs = divmod(wall, 86400)
    y, m, d = civil_from_days(days)
    return _Local(y, m, d, secs // 3600, secs % 3600 // 60, secs % 60, (days + 4) % 7)


def date(year: int, month: int, day: int, hour: int, minute: int, second: int, zone: Zone) -> int:
    """Go's time.Date: the instant of a wall-clock time in ``zone``, out-of-range fields
    normalised, a time in a gap or overlap resolved as Go resolves it."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    unix = (days_from_civil(year, month, 1) + day - 1) * 86400 + hour * 3600 + minute * 60 + second
    offset, start, end = zone.lookup(unix)
    if offset != 0:
        utc = unix - offset
        if utc < start or utc >= end:
            offset = zone.lookup(utc)[0]
        unix -= offset
    return unix


def _day_matches(s: Schedule, lt: _Local) -> bool:
    dom = lt.day in s.days
    dow = lt.weekday in s.weekdays
    if s.dom_star or s.dow_star:
        return dom and dow
    return dom or dow


def next_time(s: AnySchedule, after: int, zone: Zone = UTC) -> Optional[int]:
    """The first time strictly after ``after`` (UTC seconds) that the schedule fires, in
    ``zone``'s wall clock; None when there is none within five years (robfig's Next).
    ``@every``: ``after`` plus the delay, whatever the zone."""
    if isinstance(s, Every):
        return after + s.seconds
    t = after + 1  # the upcoming second (times here are whole seconds)
    added = False
    year_limit = local(t, zone).year + YEAR_LIMIT
    while True:
        lt = local(t, zone)
        if lt.year > year_limit:
            return None
        wrapped = False
        while lt.month not in s.months:
            if not added:
                added = True
                t = date(lt.year, lt.month, 1, 0, 0, 0, zone)
                lt = local(t, zone)
            t = date(lt.year, lt.month + 1, lt.day, lt.hour, lt.minute, lt.second, zone)
            lt = local(t, zone)
            if lt.month == 1:
                wrapped = True
                break
            if lt.year > year_limit:
                return None
        if wrapped:
            continue
        while not _day_matches(s, lt):
            if not added:
                added = True
                t = date(lt.year, lt.month, lt.day, 0, 0, 0, zone)
                lt = local(t, zone)
            t = date(lt.year, lt.month, lt.day + 1, lt.hour, lt.minute, lt.second, zone)
            lt = local(t, zone)
            if lt.hour != 0:  # DST moved midnight: back to it, as robfig does
                t += (24 - lt.hour) * 3600 if lt.hour > 12 else -lt.hour * 3600
                lt = local(t, zone)
            if lt.day == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while lt.hour not in s.hours:
            if not added:
                added = True
                t = date(lt.year, lt.month, lt.day, lt.hour, 0, 0, zone)
                lt = local(t, zone)
            t += 3600
            lt = local(t, zone)
            if lt.hour == 0:
                wrapped = True
                break
        if wrapped:
            continue
        while lt.minute not in s.minutes:
            if not added:
                added = True
                t -= t % 60
                lt = local(t, zone)
            t += 60
            lt = local(t, zone)
            if lt.minute == 0:
                wrapped = True
                break
        if wrapped:
            continue
        if lt.second != 0:  # the seconds field is "0": on to the next minute, then check again
            added = True
            t += 60 - lt.second
            continue
        return t


def times_between(s: AnySchedule, start: int, end: int, zone: Zone = UTC, limit: int = 0) -> List[int]:
    """Every firing in (start, end] (at most ``limit`` when it is positive); for tests."""
    out: List[int] = []
    t = next_time(s, start, zone)
    while t is not None and t <= end and (limit <= 0 or len(out) < limit):
        out.append(t)
        t = next_time(s, t, zone)
    return out
