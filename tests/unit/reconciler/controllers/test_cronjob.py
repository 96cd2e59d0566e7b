"""The CronJob controller: state in, actions out (tests/data/reconciler/controllers/cronjob/).

Case format: tests/unit/reconciler/controllers/cases.py (``now`` is set per case: the
schedule decides). Upstream's missed-times count and the Job name are tested directly.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubeform.api import cron, tzif
from kubeform.reconciler.controllers import CONTROLLERS, cronjob
from kubeform.reconciler.machinery.cache import Cache, Change, Item

from .casefile import cases, now_of, view_of
from .cases import summary

CASES = cases("cronjob")


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_sync(name: str, case: dict[str, Any]) -> None:
    view = view_of(case)
    got = [summary(a, case.get("show"), case.get("create_show")) for a in cronjob.sync(case["sync"], view, now_of(case))]
    assert got == case["expect"]


def _t(text: str) -> int:
    return int(datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC).timestamp())


@pytest.mark.parametrize(
    "spec,earliest,now,want",
    [
        ("*/5 * * * *", "2026-01-01T11:58:00", "2026-01-01T11:59:00", (None, 0)),
        ("*/5 * * * *", "2026-01-01T11:58:00", "2026-01-01T12:00:00", ("2026-01-01T12:00:00", 1)),
        ("*/5 * * * *", "2026-01-01T11:00:00", "2026-01-01T12:01:00", ("2026-01-01T12:00:00", 12)),
        ("0 * * * *", "2026-01-01T00:00:00", "2026-01-05T00:30:00", ("2026-01-05T00:00:00", 96)),
        ("0 9 * * 1-5", "2026-01-02T10:00:00", "2026-01-06T09:30:00", ("2026-01-06T09:00:00", 2)),
    ],
)
def test_most_recent(spec: str, earliest: str, now: str, want: tuple[str | None, int]) -> None:
    recent, missed = cronjob.most_recent(cron.parse(spec), tzif.UTC, _t(earliest), _t(now))
    assert (recent, missed) == ((_t(want[0]) if want[0] else None), want[1])


def test_job_name_is_minutes_since_epoch() -> None:
    assert cronjob.job_name({"metadata": {"name": "pi"}}, _t("2026-01-01T12:00:00")) == "pi-29454480"


def test_related() -> None:
    view = Cache()
    job = {"metadata": {"namespace": "t", "ownerReferences": [{"kind": "CronJob", "name": "hello", "controller": True}]}}
    assert cronjob.related(Change("/registry/jobs/t/j", None, Item("/registry/jobs/t/j", job, 2)), view) == ["/registry/cronjobs/t/hello"]
    assert cronjob.related(Change("/registry/jobs/t/k", None, Item("/registry/jobs/t/k", {"metadata": {}}, 2)), view) == []
    assert cronjob.related(Change("/registry/cronjobs/t/c", None, Item("/registry/cronjobs/t/c", {}, 2)), view) == ["/registry/cronjobs/t/c"]


def test_registered() -> None:
    assert cronjob.CONTROLLER in CONTROLLERS
