"""The agent's pure parts: its config file, the Node/heartbeat records, etcd request shapes.

Why: these are the contracts other parts read (the Node object and heartbeat key feed
`kubeform get nodes` and the node-lifecycle controller), so their shape is pinned by files.
"""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path

import pytest

from kubeform.agent import node
from kubeform.agent.config import ConfigError, load_config
from kubeform.api import etcd

DATA = Path(__file__).parent.parent.parent / "data" / "network" / "agent"

GOOD = {
    "node_name": "node1",
    "roles": ["master"],
    "etcd": {
        "endpoints": ["https://192.168.56.11:2379"],
        "ca_file": "/etc/kubeform/pki/ca.crt",
        "cert_file": "/etc/kubeform/pki/node1.crt",
        "key_file": "/etc/kubeform/pki/node1.key",
    },
    "interface": "eth1",
}


def _write(tmp_path: Path, raw: object) -> str:
    path = tmp_path / "agent.json"
    path.write_text(raw if isinstance(raw, str) else json.dumps(raw))
    return str(path)


def test_config_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, GOOD))
    assert (cfg.node_name, cfg.roles, cfg.interface, cfg.public_ip) == ("node1", ["master"], "eth1", None)
    assert cfg.flannel_prefix == "/coreos.com/network"
    assert cfg.subnet_env == "/run/flannel/subnet.env"
    assert cfg.ip_masq is True


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("{not json", "not valid JSON"),
        ([], "JSON object"),
        ({**GOOD, "etcd": None}, "'etcd'"),
        ({**GOOD, "etcd": {**GOOD["etcd"], "endpoints": []}}, "etcd.endpoints"),  # type: ignore[dict-item]
        ({**GOOD, "etcd": {**GOOD["etcd"], "endpoints": ["tcp://x"]}}, "etcd.endpoints"),  # type: ignore[dict-item]
        ({**GOOD, "etcd": {"endpoints": ["https://x:2379"]}}, "ca_file"),
        ({**GOOD, "roles": "master"}, "'roles'"),
        ({**GOOD, "public_ip": 5}, "'public_ip'"),
        ({**GOOD, "colour": "blue"}, "colour"),
        ({**GOOD, "runtime": "runc"}, "'runtime'"),
        ({**GOOD, "taints": ["dedicated=db"]}, "'taints'"),
        ({**GOOD, "resync_seconds": "often"}, "'resync_seconds' must be a positive number"),
        ({**GOOD, "proxy_resync_seconds": 0}, "'proxy_resync_seconds'"),
        ({**GOOD, "etcd": {**GOOD["etcd"], "ca_file": 7}}, "'etcd.ca_file' must be a string"),  # type: ignore[dict-item]
    ],
)
def test_config_errors_name_the_field(tmp_path: Path, raw: object, field: str) -> None:
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError, match=field) as err:
        load_config(path)
    assert path in str(err.value)


def test_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "nope.json"))


def test_node_object_matches_fixture() -> None:
    facts = {
        "internal_ip": "192.168.56.11",
        "cpu": 2,
        "memory_kib": 2040000,
        "kernel": "5.4.0-1.el7.elrepo.x86_64",
        "os_image": "CentOS Linux 7 (Core)",
        "architecture": "amd64",
    }
    taints = node.parse_taints(["node-role.kubernetes.io/control-plane:NoSchedule"])
    got = node.render_node("node1", ["master", "worker"], facts, "10.244.3.0/24", "2024-01-02T03:04:05Z", taints)
    assert got == json.loads((DATA / "node_expected.json").read_text())
    assert not node.node_needs_write(got, json.loads(json.dumps(got)))


def test_heartbeat_value() -> None:
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 6)
    assert json.loads(node.render_heartbeat("node1", when)) == {
        "holderIdentity": "node1",
        "renewTime": "2024-01-02T03:04:05.000006Z",
        "leaseDurationSeconds": 10,
    }
    assert node.heartbeat_key("node1") == "/registry/leases/kube-node-lease/node1"
    assert node.node_key("node1") == "/registry/minions/node1"


def test_os_release_and_meminfo() -> None:
    assert node.parse_os_release('NAME="CentOS Linux"\nPRETTY_NAME="CentOS Linux 7 (Core)"\n') == "CentOS Linux 7 (Core)"
    assert node.parse_meminfo("MemTotal:        2040000 kB\nMemFree: 1 kB\n") == 2040000


@pytest.mark.parametrize(
    ("prefix", "end"), [("/a/", b"/a0"), ("/z", b"/{"), ("", b"\0")]
)
def test_prefix_end(prefix: str, end: bytes) -> None:
    assert etcd.prefix_end(prefix) == end


def test_txn_shapes() -> None:
    def b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    assert etcd.key_absent("/k").to_json() == {
        "key": b64("/k"), "target": "CREATE", "result": "EQUAL", "create_revision": "0",
    }
    assert etcd.key_unchanged("/k", 12).to_json()["mod_revision"] == "12"
    assert etcd.Compare("/k", "VALUE", "v").to_json()["value"] == b64("v")
    assert etcd.op_put("/k", "v", 5) == {"request_put": {"key": b64("/k"), "value": b64("v"), "lease": "5"}}
