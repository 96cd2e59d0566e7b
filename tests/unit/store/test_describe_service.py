"""`describe svc` as kubectl's describeService: tests/data/printers/describe_service.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.api import kinds
from kubeform.cli.objects import describe_text
from kubeform.store import describe_service

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "describe_service.yaml").read_text()
)


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["name"])
def test_service_text(case: dict[str, Any]) -> None:
    assert describe_service.service_text(case["service"], case["endpoints"]) == case["text"]


def test_describe_svc_ends_with_events() -> None:
    case = DATA["cases"][0]
    text = describe_text(kinds.BY_KIND["Service"], case["service"], [], events=[], endpoints=case["endpoints"])
    assert text == case["text"] + "Events:       <none>\n"
