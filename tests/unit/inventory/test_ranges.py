"""Ansible host ranges and host:port entries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeform.inventory.ranges import HostPatternError, expand_host_pattern

GOOD = [
    ("node1", ["node1"], None),
    ("node[1:3]", ["node1", "node2", "node3"], None),
    ("node[01:03]", ["node01", "node02", "node03"], None),
    ("node[:2]", ["node0", "node1", "node2"], None),
    ("n[0:10:5]", ["n0", "n5", "n10"], None),
    ("db-[a:c].lan", ["db-a.lan", "db-b.lan", "db-c.lan"], None),
    ("[A:C]x", ["Ax", "Bx", "Cx"], None),
    ("10.0.0.[1:2]", ["10.0.0.1", "10.0.0.2"], None),
    ("r[1:2]n[1:2]", ["r1n1", "r1n2", "r2n1", "r2n2"], None),
    ("host:2222", ["host"], 2222),
    ("h[1:2]:2222", ["h1", "h2"], 2222),
    ("[2001:db8::1]:22", ["2001:db8::1"], 22),
    ("[::1]", ["::1"], None),
    ("2001:db8::1", ["2001:db8::1"], None),
    ("fe80::[a:b]", ["fe80::a", "fe80::b"], None),
]

BAD = [
    ("node[1:]", "no end value"),
    ("node[1]", "expected [begin:end]"),
    ("node[1:2:3:4]", "expected [begin:end]"),
    ("node[3:1]", "begin is after end"),
    ("node[c:a]", "begin is after end"),
    ("node[01:100]", "same width"),
    ("node[1:x]", "numbers or single letters"),
    ("node[1:3:0]", "positive integer"),
    ("node[1:3", "unbalanced"),
    ("node1:3]", "invalid port"),
    ("host:http", "invalid port"),
    ("host:70000", "out of range"),
    (":22", "missing host name"),
    ("", "empty host name"),
]


@pytest.mark.parametrize(("pattern", "hosts", "port"), GOOD)
def test_expand(pattern: str, hosts: list[str], port: int | None) -> None:
    assert expand_host_pattern(pattern) == (hosts, port)


@pytest.mark.parametrize(("pattern", "fragment"), BAD)
def test_malformed(pattern: str, fragment: str) -> None:
    with pytest.raises(HostPatternError, match=fragment.replace("[", r"\[")):
        expand_host_pattern(pattern)


@given(st.integers(0, 500), st.integers(0, 500), st.integers(1, 7))
def test_numeric_range_is_inclusive_and_stepped(a: int, b: int, step: int) -> None:
    begin, end = min(a, b), max(a, b)
    hosts, _ = expand_host_pattern(f"n[{begin}:{end}:{step}].lan")
    assert hosts == [f"n{i}.lan" for i in range(begin, end + 1, step)]


@given(st.integers(0, 999), st.integers(0, 999))
def test_padded_range_keeps_width(a: int, b: int) -> None:
    begin, end = min(a, b), max(a, b)
    hosts, _ = expand_host_pattern(f"n[{begin:04d}:{end:04d}]")
    assert hosts == [f"n{i:04d}" for i in range(begin, end + 1)]
