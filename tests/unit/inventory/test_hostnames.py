"""Addresses a host can be reached by (kubeform.inventory.hostnames)."""

from __future__ import annotations

import pytest

from kubeform.inventory.hostnames import address_problem


@pytest.mark.parametrize(
    "address",
    ["node1", "node-1.example.com", "10.0.0.5", "2001:db8::1", "[2001:db8::1]", "my_host", "example.com.", "bücher.de", "x" * 63],
)
def test_good(address: str) -> None:
    assert address_problem(address) is None


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("a..b", "empty label"),
        (".a", "empty label"),
        ("x" * 64 + ".com", "longer than 63"),
        (".".join(["a" * 60] * 5), "304 characters (at most 253)"),
        ("-node", "may hold only"),
        ("no de", "may hold only"),
        ("", "empty host name"),
        ("ü" * 70, "not a valid DNS name"),
    ],
)
def test_bad(address: str, fragment: str) -> None:
    problem = address_problem(address)
    assert problem is not None and fragment in problem
