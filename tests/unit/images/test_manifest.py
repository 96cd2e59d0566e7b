"""Manifest conversion and platform choice: tests/data/images/manifests.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.images import manifest as mf
from kubeform.images import mediatypes

DATA: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "images" / "manifests.yaml").read_text()
)


@pytest.mark.parametrize("case", DATA["oci_manifest"], ids=lambda c: c["name"])
def test_oci_manifest(case: dict[str, Any]) -> None:
    config = mf.Descriptor(mediatypes.OCI_CONFIG, case["config"]["digest"], case["config"]["size"])
    layers = [
        mf.Descriptor(mediatypes.layer_type(bytes.fromhex(layer["head"])), layer["digest"], layer["size"])
        for layer in case["layers"]
    ]
    raw = mf.oci_manifest(config, layers)
    assert json.loads(raw) == case["expected"]
    assert b" " not in raw  # compact: the bytes pushed are the bytes digested
    assert mf.blob_digests(json.loads(raw)) == [config.digest, *(d.digest for d in layers)]


@pytest.mark.parametrize("case", DATA["pick_platform"], ids=lambda c: c["name"])
def test_pick_platform(case: dict[str, Any]) -> None:
    chosen = mf.pick_platform(case["index"], "linux", "amd64")
    assert (chosen or {}).get("digest") == case["expected"]
