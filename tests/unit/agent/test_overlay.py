"""Overlay convergence from files: (config, leases, current device state) -> expected commands.

Why data files: the plan is the agent's whole decision about the network; each case under
tests/data/network/overlay/ is one situation a host can be in, readable without the code.
Set KUBEFORM_REGEN=1 to rewrite the expectations after a deliberate change (then review).
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent import flannel, hoststate, overlay

CASES = Path(__file__).parent.parent.parent / "data" / "network" / "overlay"


def _plan(case: dict[str, Any]) -> list[str]:
    config = flannel.parse_config(json.dumps(case["config"]))
    leases = [
        lease
        for key, value in case["leases"].items()
        if (lease := flannel.parse_lease(key, json.dumps(value))) is not None
    ]
    desired = overlay.desired_state(
        config,
        ipaddress.IPv4Network(case["subnet"]),
        case["public_ip"],
        case["external_mtu"],
        leases,
        case.get("ext_dev"),
        case.get("ipmasq", True),
    )
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in case["current"].items()}
    return overlay.render(overlay.plan(desired, hoststate.parse_state(raw)))


@pytest.mark.parametrize("path", sorted(CASES.glob("*.json")), ids=lambda p: p.stem)
def test_overlay_case(path: Path) -> None:
    case = json.loads(path.read_text())
    got = _plan(case)
    if os.environ.get("KUBEFORM_REGEN"):
        case["expected"] = got
        path.write_text(json.dumps(case, indent=1) + "\n")
    assert got == case["expected"], case["description"]
