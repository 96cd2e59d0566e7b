"""serviceenv.variables: the Service variables of a pod's containers
(tests/data/agent_runtime/serviceenv: pod and service-map entries in, variables out)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.agent.runtime import serviceenv

from .cases import case_files, load


@pytest.mark.parametrize("path", case_files("serviceenv"), ids=lambda p: p.stem)
def test_variables(path: Path) -> None:
    case = load(path)
    got = serviceenv.variables(case["pod"], case["services"])
    assert [list(kv) for kv in got] == case["expected"]
    # the map's order never matters
    assert serviceenv.variables(case["pod"], list(reversed(case["services"]))) == got


@pytest.mark.parametrize(("name", "want"), [("redis-master", "REDIS_MASTER"), ("web", "WEB"), ("a-b-c1", "A_B_C1")])
def test_variable_name(name: str, want: str) -> None:
    assert serviceenv.variable_name(name) == want
