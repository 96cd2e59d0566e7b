"""status.usage as the agent writes it: no CPU figure before a window, then millicores
per container and for the pod, memory in Ki, timestamp and window (kubeform.api.usage
reads it back for the HPA and `kubeform top`)."""

from __future__ import annotations

import datetime
from typing import Any

from kubeform.agent.runtime.driver import ContainerInfo
from kubeform.agent.runtime.fake import FakeDriver
from kubeform.agent.runtime.manager import RuntimeManager
from kubeform.api import usage


def _manager(driver: FakeDriver) -> RuntimeManager:
    client: Any = object()  # never called: sampling reads only the driver
    return RuntimeManager(client, driver, "kf-node1", "/nonexistent", "/nonexistent", lambda: "10.0.0.1")


def test_first_sample_opens_the_window_then_rates_per_container() -> None:
    driver = FakeDriver()
    for name in ("app", "sidecar"):
        driver.containers["id-" + name] = ContainerInfo("u1", name, 0, "id-" + name, "running", None, "", "", 42, "")
    m = _manager(driver)
    t0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC).timestamp()
    m.sample_usage("u1", t0)
    first = m.usage["u1"]
    assert "cpu" not in first and first["window"] == "0s" and first["memory"] == "2048Ki"
    assert usage.read(first).total.cpu_millis is None  # type: ignore[union-attr]
    driver.cpu_calls = 7500  # the next list reports 7501 ms of CPU per container: 7.5 s in 15 s
    m.sample_usage("u1", t0 + 15)
    rec = m.usage["u1"]
    assert rec["cpu"] == "1000m" and rec["window"] == "15s" and rec["timestamp"] == "2026-01-01T12:00:15Z"
    assert [c["name"] for c in rec["containers"]] == ["app", "sidecar"]
    got = usage.read(rec, datetime.datetime(2026, 1, 1, 12, 0, 20, tzinfo=datetime.UTC))
    assert got is not None and got.total == usage.Sample(1000, 2 * 1048576)
    assert got.containers["app"] == usage.Sample(500, 1048576)
    assert usage.read(rec, datetime.datetime(2026, 1, 1, 12, 2, 0, tzinfo=datetime.UTC)) is None  # stale
