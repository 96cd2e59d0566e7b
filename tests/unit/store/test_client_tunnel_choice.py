"""Which SSH tunnel the CLI uses to reach etcd (pure decision)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.store.client import FALLBACK_KEY, tunnel_spec

FALLBACK = {"name": "m1", "ansible_host": "10.0.0.11"}


@pytest.mark.parametrize(
    ("explicit", "fallback", "reachable", "expected"),
    [
        (None, None, True, None),  # direct, nothing recorded
        (None, None, False, None),  # unreachable but no way round it: the error says so
        (None, FALLBACK, True, None),  # reachable: never tunnel needlessly
        (None, FALLBACK, False, FALLBACK),  # unreachable: through the recorded master
        ("root@m2", FALLBACK, True, "root@m2"),  # the person's choice always wins
    ],
)
def test_tunnel_choice(explicit: str | None, fallback: dict[str, str] | None, reachable: bool, expected: object) -> None:
    extra = {FALLBACK_KEY: fallback} if fallback else {}
    cd = ClusterDir(Path("/x"), "c", ["https://10.0.0.11:2379"], explicit, extra)
    assert tunnel_spec(cd, reachable=lambda urls: reachable) == expected
