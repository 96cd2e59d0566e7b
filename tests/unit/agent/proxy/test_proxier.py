"""The proxier's timers (kubeform.agent.proxy.proxier.Proxier): a full sync at start and
hourly, partial syncs in between, the cheap repair check (check_once, its own thread) that
makes the next sync a full one when the host's rules differ from what was written, and
throws its result away when a sync overlapped it."""

from __future__ import annotations

from typing import Any

from kubeform.agent.proxy import proxier as proxier_mod
from kubeform.agent.proxy.proxier import Proxier


class FakeBackend:
    name = "iptables"

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.problems: list[str] = []

    def context(self, *args: Any) -> tuple[Any, ...]:
        return args

    def sync(self, items: Any, ctx: Any, full: bool) -> str:
        self.calls.append("full" if full else "partial")
        return "1 chains"

    def check(self) -> list[str]:
        self.calls.append("check")
        return self.problems


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(monkeypatch: Any) -> tuple[Proxier, FakeBackend, Clock]:
    clock = Clock()
    monkeypatch.setattr(proxier_mod.time, "monotonic", clock)
    backend = FakeBackend()
    p = Proxier(client=None, backend=backend, node_name="kf-node1", node_ips=lambda: ["192.168.56.11"],  # type: ignore[arg-type]
                cluster_cidr=lambda: "10.244.0.0/16", resync=30.0, full_resync=3600.0)
    p.informer.synced = True
    return p, backend, clock


def test_full_at_start_partial_between_full_hourly(monkeypatch: Any) -> None:
    p, backend, clock = make(monkeypatch)
    assert p.check_once() is None  # nothing applied yet: nothing to check
    p.sync_once()
    assert backend.calls == ["full"]
    clock.now += 10
    p._changed()
    p.sync_once()
    clock.now += 25
    p.sync_once()  # the periodic sync: partial
    assert backend.calls == ["full", "partial", "partial"]
    clock.now += 3600
    p.sync_once()
    assert backend.calls[-1] == "full"


def test_check_as_written(monkeypatch: Any) -> None:
    p, _backend, clock = make(monkeypatch)
    p.sync_once()
    clock.now += 31
    assert "as written" in (p.check_once() or "")
    assert p.last_check == clock.now and not p.need_full and not p.wake.is_set()


def test_check_finding_a_difference_makes_the_next_sync_full(monkeypatch: Any) -> None:
    p, backend, clock = make(monkeypatch)
    p.sync_once()
    backend.problems = ["nat KUBE-SERVICES: 0 rules, 2 written"]
    clock.now += 31
    msg = p.check_once() or ""
    assert "differ" in msg and "KUBE-SERVICES" in msg
    assert p.wake.is_set()
    p.sync_once()
    assert backend.calls == ["full", "check", "full"]


def test_a_check_overlapping_a_sync_is_thrown_away(monkeypatch: Any) -> None:
    p, backend, _clock = make(monkeypatch)
    p.sync_once()
    backend.problems = ["nat KUBE-SVC-X: 2 rules, 3 written"]
    backend.check = lambda: (p.sync_once(), backend.problems)[1]  # type: ignore[method-assign]
    assert p.check_once() is None
    assert not p.need_full


def test_a_backend_without_check_gets_a_full_sync_every_resync(monkeypatch: Any) -> None:
    clock = Clock()
    monkeypatch.setattr(proxier_mod.time, "monotonic", clock)

    class Ipvs:
        name = "ipvs"
        context = FakeBackend.context
        sync = FakeBackend.sync

        def __init__(self) -> None:
            self.calls: list[str] = []

    backend = Ipvs()
    p = Proxier(client=None, backend=backend, node_name="n", node_ips=lambda: [], cluster_cidr=lambda: "10.244.0.0/16",  # type: ignore[arg-type]
                resync=30.0)
    p.informer.synced = True
    p.sync_once()
    clock.now += 31
    p.sync_once()
    assert backend.calls == ["full", "full"]
