"""The service-map controller: Service + Endpoints in, service-map entries out (case files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.controllers import servicemap

from .casefile import related_cases, related_keys, sync_files
from .services_cases import run_sync


@pytest.mark.parametrize("path", sync_files("servicemap"), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    run_sync(servicemap.CONTROLLER, "servicemap", path)


@pytest.mark.parametrize("case", related_cases("servicemap"), ids=lambda c: c["change"]["key"])
def test_related(case: dict[str, Any]) -> None:
    assert sorted(related_keys(servicemap.CONTROLLER.related, case)) == case["expect"]
