"""Verbs run, plan: playbooks against an inventory."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add this group's verbs to the top-level parser (filled in as the group lands)."""
