"""ClusterIP/NodePort picking: inside the range, never reserved, never a used value."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeform.errors import UserError
from kubeform.store import allocation


def test_reserved_addresses_never_handed_out() -> None:
    cidr = "10.0.0.0/29"  # .0 network, .1 kubernetes, .7 broadcast -> .2-.6 free
    used: set[str] = set()
    for i in range(5):
        used.add(allocation.allocate_ip(cidr, used, f"s{i}"))
    assert used == {f"10.0.0.{i}" for i in range(2, 7)}
    with pytest.raises(UserError, match="no free ClusterIP"):
        allocation.allocate_ip(cidr, used, "x")


def test_kubernetes_ip() -> None:
    assert allocation.kubernetes_service_ip() == "10.96.0.1"


@given(st.sets(st.integers(min_value=2, max_value=200), max_size=150), st.text(max_size=8))
def test_allocate_ip_free_and_in_range(used_idx: set[int], seed: str) -> None:
    net = ipaddress.ip_network("10.96.0.0/24")
    used = {str(net[i]) for i in used_idx}
    ip = allocation.allocate_ip("10.96.0.0/24", used, seed)
    assert ip not in used and ipaddress.ip_address(ip) in net
    assert ip not in ("10.96.0.0", "10.96.0.1", "10.96.0.255")


@given(st.sets(st.integers(min_value=30000, max_value=32767), max_size=300), st.text(max_size=8))
def test_allocate_port(used: set[int], seed: str) -> None:
    port = allocation.allocate_port(used, seed)
    assert 30000 <= port <= 32767 and port not in used


def test_check_ip() -> None:
    allocation.check_ip("10.96.0.0/12", "10.100.1.2")
    with pytest.raises(UserError):
        allocation.check_ip("10.96.0.0/12", "192.168.1.1")
    with pytest.raises(UserError):
        allocation.check_ip("10.96.0.0/12", "nope")
