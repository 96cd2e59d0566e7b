"""The agent against a real etcd with TLS client certs: its gateway client and its records.

Why real etcd: the agent speaks the v3 JSON gateway by hand (stdlib only), so only the
real server proves the request shapes, int64-as-string answers, leases and the watch stream.
"""

from __future__ import annotations

import json
import random
import threading
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent import flannel, node
from kubeform.agent.config import AgentConfig
from kubeform.agent.main import Agent, TryAgain
from kubeform.api.etcd import EtcdClient, EtcdError, key_absent, key_unchanged, op_get, op_put
from tests.etcd_server import EtcdServer, etcd_clean, etcd_tls  # noqa: F401

pytestmark = pytest.mark.integration

DATA = Path(__file__).parent.parent / "data" / "network" / "flannel"


def _client(server: EtcdServer, endpoints: list[str] | None = None) -> EtcdClient:
    c = server.cluster
    return EtcdClient(
        endpoints or [server.endpoint], str(c.ca_cert), str(c.admin_cert), str(c.admin_key), timeout=5
    )


def _agent(server: EtcdServer, tmp_path: Path, name: str, ip: str, **extra: Any) -> Agent:
    c = server.cluster
    raw = {
        "node_name": name,
        "roles": ["worker"],
        "etcd": {
            "endpoints": [server.endpoint],
            "ca_file": str(c.ca_cert),
            "cert_file": str(c.admin_cert),
            "key_file": str(c.admin_key),
        },
        "public_ip": ip,
        "subnet_env": str(tmp_path / name / "subnet.env"),
        **extra,
    }
    agent = Agent(AgentConfig(raw), facts={"internal_ip": ip, "cpu": 2, "memory_kib": 1000})
    agent.public_ip = ip
    return agent


def test_kv_range_txn(etcd_clean: EtcdServer) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    cl.put("/t/a", "1")
    cl.put("/t/b", "2")
    cl.put("/u", "3")
    kvs, rev = cl.range("/t/", prefix=True)
    assert [(k.key, k.value) for k in kvs] == [("/t/a", "1"), ("/t/b", "2")]
    assert rev >= kvs[-1].mod_revision
    ok, _ = cl.txn([key_absent("/t/a")], [op_put("/t/a", "x")])
    assert not ok and cl.get("/t/a").value == "1"  # type: ignore[union-attr]
    a = cl.get("/t/a")
    assert a is not None
    ok, responses = cl.txn([key_unchanged("/t/a", a.mod_revision)], [op_put("/t/a", "y"), op_get("/t/", prefix=True)])
    assert ok and [k.value for k in EtcdClient.txn_kvs(responses[1])] == ["y", "2"]
    ok, _ = cl.txn([key_unchanged("/t/a", a.mod_revision)], [op_put("/t/a", "z")])
    assert not ok
    assert cl.delete("/t/", prefix=True) == 2 and cl.get("/t/a") is None


def test_lease_grant_keepalive_revoke(etcd_clean: EtcdServer) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    lease = cl.lease_grant(30)
    cl.put("/leased", "v", lease=lease)
    assert cl.get("/leased").lease == lease  # type: ignore[union-attr]
    assert 0 < cl.lease_ttl(lease) <= 30
    assert cl.lease_keepalive(lease) == 30
    cl.lease_revoke(lease)
    assert cl.get("/leased") is None
    assert cl.lease_keepalive(lease) == 0
    assert cl.lease_ttl(lease) == -1
    cl.lease_revoke(lease)  # already gone: not an error


def test_watch_sees_put_and_delete(etcd_clean: EtcdServer) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    _, revision = cl.range("/w/", prefix=True)
    seen: list[tuple[str, str, str]] = []

    def watch() -> None:
        # From the revision read above, so the writes below are seen however late
        # the watch is created.
        for kind, kv in cl.watch("/w/", prefix=True, start_revision=revision + 1, timeout=20):
            seen.append((kind, kv.key, kv.value))
            if len(seen) == 2:
                return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    cl.put("/w/x", "1")
    cl.put("/other", "not seen")
    cl.delete("/w/x")
    t.join(20)
    assert seen == [("PUT", "/w/x", "1"), ("DELETE", "/w/x", "")]


def test_wait_for_change_times_out_quietly(etcd_clean: EtcdServer) -> None:  # noqa: F811
    assert _client(etcd_clean).wait_for_change("/quiet/", True, 0.3) is False


def test_failover_to_second_endpoint(etcd_clean: EtcdServer) -> None:  # noqa: F811
    cl = _client(etcd_clean, ["https://127.0.0.1:1", etcd_clean.endpoint])
    cl.put("/f", "ok")
    assert cl.get("/f").value == "ok"  # type: ignore[union-attr]
    with pytest.raises(EtcdError, match="unreachable"):
        _client(etcd_clean, ["https://127.0.0.1:1"]).get("/f")


def test_refuses_server_from_other_ca(etcd_clean: EtcdServer, tmp_path: Path) -> None:  # noqa: F811
    from kubeform import pki

    ca_cert, _ = pki.create_ca("someone-else")
    (tmp_path / "other-ca.crt").write_bytes(ca_cert)
    c = etcd_clean.cluster
    cl = EtcdClient([etcd_clean.endpoint], str(tmp_path / "other-ca.crt"), str(c.admin_cert), str(c.admin_key))
    with pytest.raises(EtcdError, match="CERTIFICATE_VERIFY_FAILED"):
        cl.get("/x")


def test_subnet_leases_in_flannel_format(etcd_clean: EtcdServer, tmp_path: Path) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    cl.put("/coreos.com/network/config", (DATA / "config_default.json").read_text())
    a = _agent(etcd_clean, tmp_path, "a", "10.99.0.1")
    b = _agent(etcd_clean, tmp_path, "b", "10.99.0.2")
    config, leases = a.read_network()
    mine_a = a.ensure_subnet(config, leases)
    config, leases = b.read_network()
    mine_b = b.ensure_subnet(config, leases)
    assert mine_a.subnet != mine_b.subnet
    kvs, _ = cl.range("/coreos.com/network/subnets/", prefix=True)
    by_ip = {json.loads(k.value)["PublicIP"]: k for k in kvs}
    kv = by_ip["10.99.0.1"]
    assert kv.key == f"/coreos.com/network/subnets/{mine_a.subnet.network_address}-24"
    # Byte for byte the fixture written from flanneld's LeaseAttrs encoding.
    assert kv.value == (DATA / "lease_vxlan.json").read_text().strip()
    ttl = cl.lease_ttl(kv.lease)
    assert flannel.SUBNET_TTL - 60 < ttl <= flannel.SUBNET_TTL
    # A restarted agent (new process, same PublicIP) finds and keeps its subnet.
    again = _agent(etcd_clean, tmp_path, "a", "10.99.0.1")
    config, leases = again.read_network()
    assert again.ensure_subnet(config, leases).subnet == mine_a.subnet
    assert len(cl.range("/coreos.com/network/subnets/", prefix=True)[0]) == 2


def test_lost_race_retries(etcd_clean: EtcdServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    cl.put("/coreos.com/network/config", json.dumps(
        {"Network": "10.244.0.0/16", "SubnetMin": "10.244.5.0", "SubnetMax": "10.244.6.0", "Backend": {"Type": "vxlan"}}
    ))
    monkeypatch.setattr(random, "randrange", lambda n: 0)
    a = _agent(etcd_clean, tmp_path, "a", "10.99.0.1")
    b = _agent(etcd_clean, tmp_path, "b", "10.99.0.2")
    config, stale_view = b.read_network()  # b reads before a writes
    a.ensure_subnet(*a.read_network())
    with pytest.raises(TryAgain):
        b.ensure_subnet(config, stale_view)
    mine = b.ensure_subnet(*b.read_network())
    assert str(mine.subnet) == "10.244.6.0/24"


def test_node_registration_and_heartbeat(etcd_clean: EtcdServer, tmp_path: Path) -> None:  # noqa: F811
    cl = _client(etcd_clean)
    a = _agent(etcd_clean, tmp_path, "node-a", "10.99.0.1", roles=["master", "worker"])
    a.register_node("10.244.3.0/24")
    first = cl.get(node.node_key("node-a"))
    assert first is not None
    obj = json.loads(first.value)
    assert obj["kind"] == "Node" and obj["spec"]["podCIDR"] == "10.244.3.0/24"
    assert "node-role.kubernetes.io/master" in obj["metadata"]["labels"]
    a.register_node("10.244.3.0/24")  # unchanged: no write
    assert cl.get(node.node_key("node-a")).mod_revision == first.mod_revision  # type: ignore[union-attr]
    a.heartbeat_once()
    beat = cl.get(node.heartbeat_key("node-a"))
    assert beat is not None and json.loads(beat.value)["holderIdentity"] == "node-a"
    assert 0 < cl.lease_ttl(beat.lease) <= node.HEARTBEAT_TTL
    a.heartbeat_once()  # renews the same lease
    assert cl.get(node.heartbeat_key("node-a")).lease == beat.lease  # type: ignore[union-attr]
    cl.lease_revoke(beat.lease)  # as if it had lapsed
    a.heartbeat_once()  # notices and takes a new one
    assert cl.get(node.heartbeat_key("node-a")) is not None
    a.shutdown()  # SIGTERM path: NotReady at once
    assert cl.get(node.heartbeat_key("node-a")) is None
    assert cl.get(node.node_key("node-a")) is not None


def test_unary_calls_reuse_one_connection(etcd_clean: EtcdServer) -> None:  # noqa: F811
    """Sequential calls keep one kept-alive connection; a dead idle one is replaced quietly."""
    c = _client(etcd_clean)
    c.put("/kf-test/pool", "1")
    endpoint = c.endpoints[0]
    first = c._idle[endpoint][0]
    for i in range(5):
        c.put("/kf-test/pool", str(i))
    assert c._idle[endpoint] == [first]
    assert first.sock is not None
    first.sock.close()  # as if etcd had closed the idle connection
    assert c.get("/kf-test/pool").value == "4"
    assert len(c._idle[endpoint]) == 1 and c._idle[endpoint][0] is not first
    c.close()
    assert c._idle == {}
