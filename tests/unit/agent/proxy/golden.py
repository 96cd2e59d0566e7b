"""Golden files for the proxy renderers: compare, or rewrite them with KF_UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parents[3] / "data" / "agent_proxy"


def cases(room: str) -> list[Path]:
    return sorted(p for p in (DATA / room).glob("*.yaml") if not p.name.startswith("_"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def check(path: Path, suffix: str, got: str) -> None:
    """got must equal the golden file next to path (path with suffix)."""
    golden = path.with_suffix(suffix)
    if os.environ.get("KF_UPDATE_GOLDEN") == "1":
        golden.write_text(got)
    assert golden.exists(), f"{golden} missing: run with KF_UPDATE_GOLDEN=1 and review it"
    assert got == golden.read_text(), f"{golden.name} differs (KF_UPDATE_GOLDEN=1 rewrites it; review the diff)"
