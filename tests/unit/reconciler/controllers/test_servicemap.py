"""The service-map controller: Service + Endpoints in, service-map entries out (case files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform.reconciler.controllers import servicemap

from .services_cases import related_cases, run_related, run_sync, sync_cases


@pytest.mark.parametrize("path", sync_cases("servicemap"), ids=lambda p: p.stem)
def test_sync(path: Path) -> None:
    run_sync(servicemap.CONTROLLER, "servicemap", path)


@pytest.mark.parametrize("case", related_cases("servicemap"), ids=lambda c: c["change"]["key"])
def test_related(case: dict[str, Any]) -> None:
    run_related(servicemap.CONTROLLER, case)
