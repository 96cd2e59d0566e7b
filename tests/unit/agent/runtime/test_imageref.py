"""Image references and the mirror-first lookup (kubeform.agent.runtime.imageref)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import imageref

CASES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[3] / "data" / "agent_runtime" / "imageref" / "cases.yaml").read_text()
)


@pytest.mark.parametrize("case", CASES["normalize"], ids=lambda c: c["ref"] or "empty")
def test_normalize(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(imageref.RefError, match=case["error"]):
            imageref.normalize(case["ref"])
        return
    assert list(imageref.normalize(case["ref"])) == case["want"]


@pytest.mark.parametrize("case", CASES["sources"], ids=lambda c: c["name"])
def test_sources(case: dict[str, Any]) -> None:
    assert imageref.sources(imageref.normalize(case["ref"]), case["mirror"]) == case["want"]


@pytest.mark.parametrize("case", CASES["pull_reason"], ids=lambda c: c["name"])
def test_pull_reason(case: dict[str, Any]) -> None:
    assert imageref.pull_reason(case["stderr"]) == case["want"]


@pytest.mark.parametrize("case", CASES["image_info"], ids=lambda c: c["name"])
def test_image_info(case: dict[str, Any]) -> None:
    info = imageref.image_info("x", "sha256:ab", case["config"])
    got = info._asdict()
    assert (got.pop("ref"), got.pop("digest")) == ("x", "sha256:ab")
    assert got == case["want"]
    assert imageref.info_from_json(imageref.info_to_json(info)) == info


def test_store_tag_is_stable_and_umoci_safe() -> None:
    a = imageref.store_tag(imageref.normalize("nginx:1.29"))
    assert a == imageref.store_tag(imageref.normalize("docker.io/library/nginx:1.29"))
    assert a != imageref.store_tag(imageref.normalize("nginx:1.28"))
    assert a.replace("-", "").isalnum()


def test_find_manifest_takes_the_last() -> None:
    index = {"manifests": [
        {"digest": "sha256:1", "annotations": {imageref.REF_ANNOTATION: "t"}},
        {"digest": "sha256:2", "annotations": {imageref.REF_ANNOTATION: "u"}},
        {"digest": "sha256:3", "annotations": {imageref.REF_ANNOTATION: "t"}},
    ]}
    assert (imageref.find_manifest(index, "t") or {})["digest"] == "sha256:3"
    assert imageref.find_manifest(index, "v") is None


def test_info_cached_before_stop_signal_still_reads() -> None:
    """An image info cached by an older agent (no stop_signal) reads back with SIGTERM's ""."""
    old = '{"cmd": ["sh"], "digest": "sha256:ab", "entrypoint": [], "env": [], "ref": "x", "user": "", "working_dir": ""}'
    info = imageref.info_from_json(old)
    assert info.stop_signal == "" and info.cmd == ["sh"]
