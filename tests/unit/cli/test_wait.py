"""kubeform wait: --for and --timeout parsing, the condition check (pure)."""

from __future__ import annotations

import pytest

from kubeform.cli.wait import condition_met, parse_for, parse_timeout
from kubeform.errors import UserError

POD = {"status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}]}}


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("delete", ("delete", "", "")),
        ("condition=Ready", ("condition", "Ready", "True")),
        ("condition=Ready=False", ("condition", "Ready", "False")),
    ],
)
def test_parse_for(text: str, want: tuple[str, str, str]) -> None:
    assert parse_for(text) == want


@pytest.mark.parametrize("text", ["", "condition=", "ready", "jsonpath={.status}"])
def test_parse_for_errors(text: str) -> None:
    with pytest.raises(UserError, match="--for"):
        parse_for(text)


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("2m", 120), ("1h", 3600), ("500ms", 0.5), ("7", 7)])
def test_parse_timeout(text: str, seconds: float) -> None:
    assert parse_timeout(text) == seconds


def test_parse_timeout_error() -> None:
    with pytest.raises(UserError, match="--timeout"):
        parse_timeout("soon")


@pytest.mark.parametrize(
    ("name", "status", "want"),
    [("Ready", "True", True), ("ready", "true", True), ("Ready", "False", False), ("Initialized", "True", False)],
)
def test_condition_met(name: str, status: str, want: bool) -> None:
    assert condition_met(POD, name, status) is want
    assert condition_met({}, name, status) is False
