"""The reconciler's config file: defaults, and one line naming the field for each mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeform.reconciler.config import ConfigError, ReconcilerConfig, load_config

ETCD = {"endpoints": ["https://10.0.0.11:2379"], "ca_file": "/ca", "cert_file": "/c", "key_file": "/k"}


def test_defaults() -> None:
    cfg = ReconcilerConfig({"node_name": "m1", "etcd": ETCD})
    assert (cfg.node_name, cfg.lease_ttl, cfg.renew_seconds) == ("m1", 10.0, 2.0)
    assert cfg.etcd_endpoints == ["https://10.0.0.11:2379"] and cfg.etcd_cert == "/c"
    assert cfg.local_volume_root == "/var/lib/kubeform/volumes"
    assert ReconcilerConfig({"etcd": ETCD, "local_volume_root": "/srv/vols/"}).local_volume_root == "/srv/vols"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"etcd": ETCD, "colour": "blue"}, "unknown field(s): colour"),
        ({}, "field 'etcd'"),
        ({"etcd": {"endpoints": []}}, "field 'etcd.endpoints'"),
        ({"etcd": {"endpoints": ["https://a:2379"]}}, "https endpoints need ca_file"),
        ({"etcd": ETCD, "lease_ttl": 0}, "field 'lease_ttl'"),
        ({"etcd": ETCD, "lease_ttl": 4, "renew_seconds": 3}, "field 'renew_seconds'"),
        ({"etcd": ETCD, "local_volume_root": "vols"}, "field 'local_volume_root'"),
        ({"etcd": ETCD, "local_volume_root": "/"}, "field 'local_volume_root'"),
        ({"etcd": ETCD, "local_volume_root": "/srv/../etc"}, "field 'local_volume_root'"),
    ],
)
def test_mistakes_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=".*" + field.replace("(", r"\(").replace(")", r"\)")):
        ReconcilerConfig(raw, "/etc/kubeform/reconciler.json")


def test_load(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps({"node_name": "m1", "etcd": ETCD}))
    assert load_config(str(path)).node_name == "m1"
    path.write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(path))
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "missing.json"))
