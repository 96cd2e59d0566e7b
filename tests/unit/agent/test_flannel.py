"""The flannel contract as data: config checks, subnet choice, lease JSON and subnet.env.

Why files: the expected lease JSON and subnet.env under tests/data/network/flannel/ were
written from flanneld's formats (Go's encoding/json of LeaseAttrs, WriteSubnetFile), so a
change that breaks compatibility with a real flanneld fails here first.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent import flannel
from kubeform.network import flannel as netflannel

DATA = Path(__file__).parent.parent.parent / "data" / "network" / "flannel"
DEFAULT = json.loads((DATA / "config_default.json").read_text())


def _cases(name: str) -> list[dict[str, Any]]:
    return list(json.loads((DATA / name).read_text()))


@pytest.mark.parametrize("case", _cases("config_cases.json"), ids=lambda c: c["name"])
def test_parse_config(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(flannel.FlannelError, match=case["error"]):
            flannel.parse_config(json.dumps(case["config"]))
        return
    cfg = flannel.parse_config(json.dumps(case["config"]))
    got = {
        "subnet_len": cfg.subnet_len,
        "subnet_min": str(cfg.subnet_min),
        "subnet_max": str(cfg.subnet_max),
        "backend_type": cfg.backend_type,
        "vni": cfg.vni,
        "port": cfg.port,
    }
    assert got == case["expected"]


@pytest.mark.parametrize("case", _cases("choose_cases.json"), ids=lambda c: c["name"])
def test_choose_subnet(case: dict[str, Any]) -> None:
    cfg = flannel.parse_config(json.dumps(case.get("config", DEFAULT)))
    leases = []
    for name, attrs in case["leases"].items():
        lease = flannel.parse_lease("/coreos.com/network/subnets/" + name, json.dumps(attrs))
        assert lease is not None
        leases.append(lease)
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(flannel.FlannelError, match=expected["error"]):
            flannel.choose_subnet(cfg, leases, case["public_ip"], pick=lambda n: case["pick"])
        return
    decision = flannel.choose_subnet(cfg, leases, case["public_ip"], pick=lambda n: case["pick"])
    assert decision.action == expected["action"]
    assert str(decision.subnet) == expected["subnet"]
    assert [str(s.subnet) for s in decision.stale] == expected["stale"]


def test_choose_subnet_random_stays_in_free_range() -> None:
    cfg = flannel.parse_config(json.dumps(DEFAULT))
    for _ in range(50):
        d = flannel.choose_subnet(cfg, [], "10.0.0.1")
        assert cfg.contains(d.subnet)
        assert d.subnet.network_address <= ipaddress.IPv4Address("10.244.100.0")


def test_lease_json_matches_flanneld_bytes() -> None:
    mac = flannel.vtep_mac_for("10.99.0.1")
    assert flannel.render_lease("10.99.0.1", "vxlan", 1, mac) == (DATA / "lease_vxlan.json").read_text().strip()
    assert flannel.render_lease("192.168.56.11", "host-gw") == (DATA / "lease_hostgw.json").read_text().strip()


def test_lease_parses_flanneld_written_value() -> None:
    # Older flanneld releases omit PublicIPv6; both shapes must parse.
    value = '{"PublicIP":"10.0.0.5","BackendType":"vxlan","BackendData":{"VtepMAC":"AA:BB:CC:DD:EE:FF","VNI":1}}'
    lease = flannel.parse_lease("/coreos.com/network/subnets/10.244.5.0-24", value, 42, 7)
    assert lease is not None
    assert (str(lease.subnet), lease.public_ip, lease.vtep_mac, lease.lease_id) == (
        "10.244.5.0/24", "10.0.0.5", "aa:bb:cc:dd:ee:ff", 42,
    )


@pytest.mark.parametrize(
    "key", ["/coreos.com/network/subnets/garbage", "/coreos.com/network/subnets/10.244.5.0-99"]
)
def test_bad_lease_keys_skipped(key: str) -> None:
    assert flannel.parse_lease(key, '{"PublicIP":"10.0.0.5"}') is None


def test_subnet_key_round_trip() -> None:
    net = ipaddress.IPv4Network("10.244.3.0/24")
    key = flannel.subnet_key(net)
    assert key == "/coreos.com/network/subnets/10.244.3.0-24"
    assert flannel.parse_subnet_key(key) == net


def test_subnet_env_matches_flanneld() -> None:
    cfg = flannel.parse_config(json.dumps(DEFAULT))
    mtu = flannel.overlay_mtu(cfg, 1500)
    text = flannel.render_subnet_env(cfg, ipaddress.IPv4Network("10.244.3.0/24"), mtu, True)
    assert text == (DATA / "subnet.env").read_text()


def test_vtep_mac_is_stable_local_unicast() -> None:
    mac = flannel.vtep_mac_for("192.168.56.11")
    assert mac == flannel.vtep_mac_for("192.168.56.11")
    first = int(mac.split(":")[0], 16)
    assert first & 0x02 and not first & 0x01


def test_operator_renders_same_config_as_fixture() -> None:
    assert json.loads(netflannel.render_network_config()) == DEFAULT
    assert json.loads(netflannel.render_network_config(backend="host-gw")) == {
        "Network": "10.244.0.0/16", "SubnetLen": 24, "Backend": {"Type": "host-gw"},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"backend": "udp"}, "backend"), ({"network": "10.0.0.0/33"}, "CIDR"), ({"subnet_len": 17}, "four")],
)
def test_operator_rejects_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        netflannel.render_network_config(**kwargs)
