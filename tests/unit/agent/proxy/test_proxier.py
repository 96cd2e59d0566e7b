"""The proxier's timers (kubeform.agent.proxy.proxier.Proxier): a full sync at start and
hourly, partial syncs in between, the cheap repair check (check_once, its own thread) that
makes the next sync a full one when the host's rules differ from what was written, and
throws its result away when a sync overlapped it."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.agent.proxy import iptables_rules, iptables_sync
from kubeform.agent.proxy import proxier as proxier_mod
from kubeform.agent.proxy.iptables_host import Background, IptablesError
from kubeform.agent.proxy.proxier import IptablesBackend, Proxier


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


class FakeHost:
    """An iptables host for IptablesBackend: saves what it is told, keeps what is restored
    (joined from the pieces), and records the order of what ran."""

    def __init__(self, saved: dict[str, str], fail_save: bool = False) -> None:
        self.saved = saved
        self.fail_save = fail_save
        self.restored: list[str] = []
        self.events: list[str] = []

    def modern(self) -> bool:
        return True

    def nft(self) -> bool:
        return False

    def call_in_background(self, fn: Any, *args: Any) -> Any:
        return Background(lambda: fn(*args))

    def save_all(self) -> dict[str, str]:
        self.events.append("save")
        if self.fail_save:
            raise IptablesError("iptables-save: exit 1")
        return self.saved

    def restore(self, text: Any) -> None:
        self.events.append("restore")
        self.restored.append(text if isinstance(text, str) else "".join(text))


def svc(name: str, ip: str, endpoints: int) -> tuple[str, int, dict[str, Any]]:
    eps = [{"ip": f"10.244.{i}.5", "port": 8080, "node": f"kf-node{i}"} for i in range(endpoints)]
    e = {"namespace": "demo", "name": name, "type": "ClusterIP", "clusterIP": ip, "sessionAffinity": "None",
         "affinityTimeout": 10800, "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster",
         "addresses": [], "ports": [{"name": "http", "protocol": "TCP", "port": 80, "nodePort": 0, "endpoints": eps}]}
    return (f"/registry/kubeform/servicemap/demo/{name}", 1, e)


def test_full_sync_streams_what_restore_text_gives() -> None:
    """A full sync saves (in a thread, while it renders) before it restores, and restores
    exactly restore_text of the whole map: stale chains from the save deleted, missing
    jump rules inserted; the summary counts the chains the streamed pieces wrote."""
    saved = {"filter": "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
             "nat": "*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-SEP-STALE - [0:0]\nCOMMIT\n"}
    host = FakeHost(saved)
    backend = IptablesBackend(host)  # type: ignore[arg-type]
    ctx = backend.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    items = [svc("web", "10.96.0.20", 3), svc("empty", "10.96.0.21", 0)]
    summary = backend.sync(items, ctx, full=True)
    want = iptables_sync.restore_text(iptables_rules.render([e for _k, _r, e in items], ctx), None,
                                      {t: iptables_sync.parse_chains(s) for t, s in saved.items()},
                                      iptables_sync.absent_jumps(saved))
    assert host.events == ["save", "restore"]
    assert host.restored == [want]
    assert "-X KUBE-SEP-STALE\n" in want and "-I PREROUTING" in want
    assert summary == f"{iptables_sync.changed_chains(want)} chains, {len(iptables_sync.JUMPS)} jump rules restored"
    # then a partial sync with nothing changed writes nothing
    assert backend.sync(items, ctx, full=False) == "0 chains"


def test_full_sync_whose_save_fails_applies_nothing() -> None:
    host = FakeHost({}, fail_save=True)
    backend = IptablesBackend(host)  # type: ignore[arg-type]
    ctx = backend.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    with pytest.raises(IptablesError, match="iptables-save"):
        backend.sync([svc("web", "10.96.0.20", 3)], ctx, full=True)
    assert host.events == ["save"] and backend.applied is None


def test_full_sync_after_a_check_reuses_its_save() -> None:
    """The repair check's save, when it found a difference, is the host the full sync that
    follows repairs: no second save. Not when another sync ended between them."""
    saved = {"filter": "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", "nat": "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"}
    host = FakeHost(saved)  # every save shows no KUBE- chain: the check always finds a difference
    backend = IptablesBackend(host)  # type: ignore[arg-type]
    ctx = backend.context("kf-node1", ["192.168.56.11"], "10.244.0.0/16")
    items = [svc("web", "10.96.0.20", 3)]
    backend.sync(items, ctx, full=True)
    first = host.restored[-1]
    assert backend.check()
    backend.sync(items, ctx, full=True)
    assert host.events == ["save", "restore", "save", "restore"]
    assert host.restored[-1] == first

    assert backend.check()
    backend.sync(items, ctx, full=False)  # a sync ends in between: the check's save is old
    backend.sync(items, ctx, full=True)
    assert host.events[4:] == ["save", "restore", "save", "restore"]
