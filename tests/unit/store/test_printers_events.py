"""Events in `kubeform get events` and at the end of `describe` (tests/data/store/events/).

_events.yaml holds the events; each .txt file is the exact output expected at
2026-01-01T12:00:00Z: get tables (sorted by lastTimestamp, kubectl's columns) and the
Events section of describe for pod web (uid u1: the older pod of the same name is left
out) and pod ssd (a repeated event: "2m (x3 over 10m)").
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml

from kubeform.api import kinds
from kubeform.cli.objects import describe_text
from kubeform.store import printers

DATA = Path(__file__).resolve().parents[2] / "data" / "store" / "events"
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
EVENTS = yaml.safe_load((DATA / "_events.yaml").read_text())


def _pod(name: str, uid: str) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "uid": uid}}


def test_get_events() -> None:
    out = printers.events_table(EVENTS, wide=False, all_namespaces=False, now=NOW)
    assert out == (DATA / "get-events.txt").read_text()


def test_get_events_wide_all_namespaces() -> None:
    out = printers.events_table(EVENTS, wide=True, all_namespaces=True, now=NOW)
    assert out == (DATA / "get-events-wide-all-namespaces.txt").read_text()


def test_describe_ends_with_the_objects_events() -> None:
    for name, uid in (("web", "u1"), ("ssd", "u2")):
        text = describe_text(kinds.BY_KIND["Pod"], _pod(name, uid), [], events=EVENTS, now=NOW)
        assert text.endswith((DATA / f"describe-{name}.txt").read_text()), text


def test_describe_without_events_says_none() -> None:
    text = describe_text(kinds.BY_KIND["Pod"], _pod("quiet", "u9"), [], events=EVENTS, now=NOW)
    assert text.endswith("Events:       <none>\n")


def test_event_kind_resolves() -> None:
    for name in ("ev", "events", "event", "Event"):
        assert kinds.resolve(name).kind == "Event"
    ev = kinds.BY_KIND["Event"]
    assert ev.read_only and ev.namespaced and ev.key("default", "web.1") == "/registry/events/default/web.1"
