"""fact_cache: what to fetch, how answers are read, one round trip per become setting."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from kubeform.engine.fact_cache import (
    FactCache,
    ParseFailure,
    read_outputs,
    system_fact_layer,
    to_fetch,
)
from kubeform.engine.outcomes import TaskFailure
from kubeform.modules.base import Fact
from kubeform.transport.base import CommandResult, TransportError

A = Fact("a", "echo a", lambda out, rc: out.strip())
B = Fact("b", "echo b", lambda out, rc: out.strip(), become=True)
PORT = Fact("port", "echo open", lambda out, rc: out.strip(), volatile=True)
BAD = Fact("bad", "echo x", lambda out, rc: int(out))


def test_to_fetch_skips_cached_keeps_volatile_and_groups_by_become() -> None:
    cache = {("a", False, "root"): "a"}
    groups = to_fetch([(A, False, "root"), (PORT, False, "root"), (B, True, "root"), (B, True, "root")], cache)
    assert {k: [f.key for f in v] for k, v in groups.items()} == {(False, "root"): ["port"], (True, "root"): ["b"]}


def test_read_outputs_keeps_a_parse_failure_for_its_fact() -> None:
    values = read_outputs([A, BAD], [("x\n", 0), ("nan", 0)])
    assert values[0] == "x"
    assert isinstance(values[1], ParseFailure) and "cannot parse fact bad: ValueError" in values[1].message


def test_system_fact_layer_adds_ansible_facts() -> None:
    assert system_fact_layer({"ansible_os_family": "RedHat", "x": 1})["ansible_facts"] == {"os_family": "RedHat"}


class _Host:
    """Runs each batch script with the local /bin/sh and counts round trips; ``cut`` drops the tail."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, str]] = []
        self.cut = False

    def run(self, script: str, become: bool, user: str) -> CommandResult:
        self.calls.append((become, user))
        proc = subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=False)
        out = proc.stdout[: proc.stdout.rfind("@@KF")] if self.cut else proc.stdout
        return CommandResult(proc.returncode, out, "sh: killed" if self.cut else proc.stderr)


def test_cache_batches_later_tasks_and_refetches_after_stale() -> None:
    host = _Host()
    cache = FactCache(host.run)
    cache.candidates = {1: [(A, False, "root")], 2: [(B, True, "root")], 3: [(A, False, "root")]}
    assert cache.facts_for([A], False, "root", current_seq=1) == {"a": "a"}
    assert host.calls == [(False, "root"), (True, "root")]  # b of task 2 fetched ahead
    assert cache.facts_for([B], False, "root", current_seq=2) == {"b": "b"}
    assert len(host.calls) == 2
    cache.stale()
    cache.facts_for([A], False, "root", current_seq=3)
    assert len(host.calls) == 3


def test_parse_failure_fails_only_the_reader_and_a_cut_batch_is_a_transport_error() -> None:
    host = _Host()
    cache = FactCache(host.run)
    with pytest.raises(TaskFailure, match="cannot parse fact bad"):
        cache.facts_for([BAD], False, "root", current_seq=0)
    assert cache.facts_for([A], False, "root", current_seq=0) == {"a": "a"}
    host.cut = True
    cache.stale()
    with pytest.raises(TransportError, match="sh: killed"):
        cache.facts_for([A, B], False, "root", current_seq=0)


def test_fetch_once_is_not_kept() -> None:
    host = _Host()
    cache = FactCache(host.run)
    value: Any = cache.fetch_once(A)
    assert value == "a" and cache.values == {}

