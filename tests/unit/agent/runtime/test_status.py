"""status.compute: what the agent writes into a pod's status (tests/data/agent_runtime/status).

Each case gives the pod, the observation and ``expected``: a subset of the status (every
key written must match; lists element by element). ``conditions`` may be written as a map
type -> status. The waiting reasons come from lifecycle.plan on the same input unless the
case gives ``waiting``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime import lifecycle, status

from .cases import case_files, load, observed, t


def assert_subset(want: Any, got: Any, where: str = "status") -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: {got!r} is not a mapping"
        for key, value in want.items():
            if value is None:
                assert key not in got or got[key] is None, f"{where}.{key} should be absent, is {got.get(key)!r}"
                continue
            assert key in got, f"{where}.{key} missing in {got!r}"
            assert_subset(value, got[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r}"
        for i, (w, g) in enumerate(zip(want, got, strict=False)):
            assert_subset(w, g, f"{where}[{i}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


@pytest.mark.parametrize("path", case_files("status"), ids=lambda p: p.stem)
def test_status(path: Path) -> None:
    case = load(path)
    pod = case["pod"]
    obs = observed(pod, case.get("observed"))
    now = t(case["now"])
    if "waiting" in case:
        waiting = {k: tuple(v) for k, v in (case["waiting"] or {}).items()}
    else:
        waiting = lifecycle.plan(pod, obs, now).waiting
    got = status.compute(pod, obs, waiting, case.get("host_ip", "192.168.71.11"),
                         datetime.datetime.utcfromtimestamp(now), "crun")
    want = dict(case["expected"])
    conds = want.pop("conditions", None)
    if isinstance(conds, dict):
        by_type = {c["type"]: c for c in got["conditions"]}
        for kind, value in conds.items():
            if isinstance(value, dict):
                assert_subset(value, by_type[kind], f"conditions.{kind}")
            else:
                assert by_type[kind]["status"] == value, f"{kind}: {by_type[kind]}"
    elif conds is not None:
        assert_subset(conds, got["conditions"], "conditions")
    assert_subset(want, got)


def test_unchanged_status_is_not_written() -> None:
    pod = {"metadata": {"uid": "u", "name": "p"}, "spec": {"containers": [{"name": "a", "image": "busybox"}]}}
    obs = lifecycle.observed()
    now = datetime.datetime(2024, 1, 1)
    first = status.compute(pod, obs, {}, "10.0.0.1", now, "crun")
    again = status.compute(dict(pod, status=first), obs, {}, "10.0.0.1", now + datetime.timedelta(seconds=30), "crun")
    assert not status.changed(first, again)
