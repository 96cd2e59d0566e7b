"""Reference normalization and mirror paths: tests/data/images/references.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.images import reference

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "images" / "references.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[str(c["ref"]) or "<empty>" for c in CASES])
def test_reference(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(UserError) as info:
            reference.parse(case["ref"])
        assert case["error"] in str(info.value)
        assert "\n" not in str(info.value)
        return
    ref = reference.parse(case["ref"])
    assert str(ref) == case["full"]
    assert ref.mirror_ref == case["mirror"]
    assert reference.mirror_path(case["ref"]) == case["mirror"]


def test_agents_runtime_agrees_on_the_mirror_path() -> None:
    """The agent's own (stdlib) normalizer must name the same repository path."""
    imageref = pytest.importorskip("kubeform.agent.runtime.imageref")
    for case in CASES:
        if "error" in case:
            continue
        theirs = imageref.normalize(case["ref"])
        ours = reference.parse(case["ref"])
        assert theirs.path == ours.repository, case["ref"]
        assert (theirs.tag or None) == ours.tag
