"""The endpoints controller: Services and pods in, Endpoints actions out (case files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.controllers import endpoints

from .casefile import related_cases, related_keys, sync_files
from .services_cases import run_sync


@pytest.mark.parametrize("path", sync_files("endpoints"), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    run_sync(endpoints.CONTROLLER, "endpoints", path)


@pytest.mark.parametrize("case", related_cases("endpoints"), ids=lambda c: c["change"]["key"])
def test_related(case: dict[str, Any]) -> None:
    assert sorted(related_keys(endpoints.CONTROLLER.related, case)) == case["expect"]


@pytest.mark.parametrize(
    ("target", "want"), [(8080, 8080), ("8080", 8080), ("http", 80), ("missing", None), (None, None)]
)
def test_resolve_port(target: Any, want: int | None) -> None:
    pod = {"spec": {"containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 80}]}]}}
    assert endpoints.resolve_port(pod, target) == want
