"""CronJob schedules: case files (tests/data/api/cron/) and a property test.

The property test compares ``next_time`` with the plainest possible oracle: walk every
minute after ``after`` and take the first whose wall-clock time in the zone (Python's
zoneinfo, the 3.11 test side's reference) matches the fields. Zones with DST changes at
various hours (Berlin, New York, Sydney, Lord Howe's 30-minute DST, Sao Paulo's past
changes at midnight, Apia's dateline jump) and times near the changes are drawn.
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import cron, tzif

DATA = Path(__file__).resolve().parents[2] / "data" / "api" / "cron"
NEXT = yaml.safe_load((DATA / "next.yaml").read_text())["cases"]
INVALID = yaml.safe_load((DATA / "invalid.yaml").read_text())["cases"]


def _epoch(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@pytest.mark.parametrize("case", NEXT, ids=[c["name"] for c in NEXT])
def test_next(case: dict[str, Any]) -> None:
    name = case.get("zone", "UTC")
    zone = tzif.load(name)
    got = cron.times_between(cron.parse(case["schedule"]), _epoch(case["after"]), _epoch(case["after"]) + 6 * 366 * 86400, zone, limit=len(case["expect"]))
    shown = [datetime.datetime.fromtimestamp(t, zoneinfo.ZoneInfo(name)).isoformat() for t in got]
    assert shown == case["expect"]


@pytest.mark.parametrize("case", INVALID, ids=[c["schedule"] or "empty" for c in INVALID])
def test_invalid(case: dict[str, Any]) -> None:
    with pytest.raises(cron.ScheduleError) as info:
        cron.parse(case["schedule"])
    assert str(info.value) == case["error"]


def test_parse_sets() -> None:
    s = cron.parse("0,30 8-10 */10 jun-AUG sat,SUN")
    assert sorted(s.minutes) == [0, 30]
    assert sorted(s.hours) == [8, 9, 10]
    assert sorted(s.days) == [1, 11, 21, 31]
    assert sorted(s.months) == [6, 7, 8]
    assert sorted(s.weekdays) == [0, 6]
    assert not s.dom_star and not s.dow_star
    assert cron.parse("? * * * ?").dom_star


def _oracle(s: cron.Schedule, after: int, zone: str) -> int | None:
    z = zoneinfo.ZoneInfo(zone)
    t = after - after % 60 + 60
    for _ in range(60 * 24 * 800):
        lt = datetime.datetime.fromtimestamp(t, z)
        weekday = (lt.weekday() + 1) % 7
        dom, dow = lt.day in s.days, weekday in s.weekdays
        day = (dom and dow) if (s.dom_star or s.dow_star) else (dom or dow)
        if lt.minute in s.minutes and lt.hour in s.hours and lt.month in s.months and day:
            return t
        t += 60
    return None


ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Apia"]
SCHEDULES = ["*/1 * * * *", "30 2 * * *", "30 1 * * *", "0 * * * *", "15 */3 * * *", "0 0 * * *", "0 0 1 * *", "0 9 * * MON-FRI", "0 0 13 * 5", "*/20 0-3 * 3,10,11 *", "45 23 * * SUN", "5 4 31 * *"]


@pytest.mark.parametrize("seed", range(6))
def test_next_matches_the_wall_clock_oracle(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(12):
        zone, spec = rng.choice(ZONES), rng.choice(SCHEDULES)
        year = rng.choice([1995, 2011, 2024, 2026, 2040])
        month = rng.choice([3, 4, 9, 10, 11, rng.randint(1, 12)])
        after = int(datetime.datetime(year, month, rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59), tzinfo=datetime.UTC).timestamp())
        s = cron.parse(spec)
        assert cron.next_time(s, after, tzif.load(zone)) == _oracle(s, after, zone), (zone, spec, after)


def test_date_resolves_gaps_and_overlaps_as_go() -> None:
    berlin = tzif.load("Europe/Berlin")
    # 02:30 does not exist on 2026-03-29: Go takes the offset before the change (+01:00)
    assert cron.date(2026, 3, 29, 2, 30, 0, berlin) == _epoch("2026-03-29T01:30:00Z")
    # 02:30 exists twice on 2026-10-25: Go's lookup lands on the second (+01:00)
    assert cron.date(2026, 10, 25, 2, 30, 0, berlin) == _epoch("2026-10-25T01:30:00Z")
    assert cron.date(2026, 13, 1, 0, 0, 0, tzif.UTC) == _epoch("2027-01-01T00:00:00Z")
