"""The work queue, driven by case files (tests/data/reconciler/machinery/workqueue/).

Each case is a list of steps against one queue on a hand-driven clock: add, add_after
[key, delay], rate_limited (with the delay it must return), forget, get (the key it must
hand out, or null), done, advance (seconds), shutdown, expect (ready/processing/delayed).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.reconciler.machinery.workqueue import WorkQueue, backoff_delay

CASES = Path(__file__).resolve().parents[3] / "data" / "reconciler" / "machinery" / "workqueue"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run(case: dict[str, Any]) -> None:
    clock = Clock()
    q = WorkQueue(clock=clock, base_delay=case.get("base_delay", 0.05), max_delay=case.get("max_delay", 60))
    for n, step in enumerate(case["steps"]):
        where = f"step {n}: {step}"
        if "add" in step:
            q.add(step["add"])
        elif "add_after" in step:
            key, delay = step["add_after"]
            q.add_after(key, delay)
        elif "rate_limited" in step:
            assert q.add_rate_limited(step["rate_limited"]) == pytest.approx(step["delay"]), where
        elif "forget" in step:
            q.forget(step["forget"])
        elif "get" in step:
            assert q.get_nowait() == step["get"], where
        elif "done" in step:
            q.done(step["done"])
        elif "advance" in step:
            clock.t += step["advance"]
        elif "shutdown" in step:
            q.shutdown()
        elif "expect" in step:
            assert q.snapshot() == step["expect"], where
        else:
            raise AssertionError(f"unknown step {step}")


@pytest.mark.parametrize("path", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    _run(yaml.safe_load(path.read_text()))


def test_backoff_delay_caps() -> None:
    assert backoff_delay(0) == 0
    assert backoff_delay(1, 0.05, 60) == 0.05
    assert backoff_delay(200, 0.05, 60) == 60


def test_get_blocks_until_added_and_wakes_on_shutdown() -> None:
    q = WorkQueue()
    got: list[str | None] = []
    t = threading.Thread(target=lambda: got.append(q.get(timeout=5)))
    t.start()
    time.sleep(0.05)
    q.add("k")
    t.join(2)
    assert got == ["k"]
    t = threading.Thread(target=lambda: got.append(q.get()))
    t.start()
    time.sleep(0.05)
    q.shutdown()
    t.join(2)
    assert got == ["k", None]


def test_get_waits_for_a_delayed_key() -> None:
    q = WorkQueue()
    q.add_after("k", 0.1)
    start = time.monotonic()
    assert q.get(timeout=2) == "k"
    assert time.monotonic() - start >= 0.09
    assert q.get(timeout=0.05) is None
