"""The proxier: watch the service map, keep this host's rules (and DNS records) equal to it.

Why this shape: level-triggered. An informer (list + watch of the service-map prefix,
relisted on any break) keeps the whole map in memory; any change only wakes the loop,
which waits a short debounce (a burst of endpoint changes becomes one sync), renders
the desired rules from the whole map and applies the difference to what it last applied.
A full sync (every chain written, stale chains found with iptables-save and deleted,
missing jump rules inserted in the same restore) runs at start, after any failure and
every ``full_resync`` seconds (an hour, as kube-proxy); every ``resync`` seconds a cheap
check (iptables_repair: each chain's rule count and the jump rules, from one iptables-save
per table) compares the host with what was written, and any difference makes the next
sync a full one, so rules someone deleted by hand come back within ``resync`` seconds
without rewriting 41,000 chains every 30 s at 10,000 Services. The check runs in its own
thread: its saves take 0.4 s (legacy) to 2 s (nft) at 10,000 Services, and an endpoint
change must not wait for them; a check that overlapped a sync is thrown away (it compared
the host with rules that were changing). A restarted agent converges from nothing.
Nothing is applied before the informer's first list: an empty cache must never wipe
the rules of a running cluster.

Rendering is cached per Service (keyed by its map key and its value's mod_revision): a
one-endpoint change re-renders one Service, then joins the cached rules of the others.
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from kubeform.api import servicemap
from kubeform.api.etcd import EtcdClient

from ..runtime.informer import Informer
from . import iptables_repair, iptables_rules, iptables_sync
from .iptables_host import IptablesError, IptablesHost

LOG = logging.getLogger("kubeform.agent.proxy")

Obj = Dict[str, Any]

DEBOUNCE = 0.02  # s: endpoint changes arriving together become one sync
RESYNC = 30.0  # s: the repair check (kube-proxy's default syncPeriod)
FULL_RESYNC = 3600.0  # s: full sync (kube-proxy's FullSyncPeriod)
NFT_BATCH = 500  # chains per iptables-nft transaction (iptables_sync.restore_text's batch)


class IptablesBackend(object):
    """iptables mode: render (cached per Service), diff against the last applied, restore.

    A partial sync looks only at the Services whose map entry changed (iptables_sync.
    partial_restore_text); a full sync assembles every chain and also reads the host's
    tables (stale chains, missing jump rules); check() compares the host's tables with what
    was applied. ``timing`` holds the last sync's seconds spent rendering (Python) and in
    iptables (save and restore), for logs and the bench."""

    name = "iptables"

    def __init__(self, host: IptablesHost, service_cidr: str = "") -> None:
        self.host = host
        self.service_cidr = service_cidr
        self.cache = {}  # type: Dict[str, Tuple[int, int, iptables_rules.ServiceRules]]  # key -> (revision, endpoints, rules)
        self.ctx = None  # type: Optional[iptables_rules.ProxyContext]
        self.large = None  # type: Optional[bool]
        self.applied = None  # type: Optional[Dict[str, iptables_rules.ServiceRules]]  # None: unknown, next sync is full
        self.applied_shared = None  # type: Optional[iptables_rules.RuleSet]
        self.timing = (0.0, 0.0)
        self.syncs = 0  # syncs ended (applied or failed)
        # (syncs ended before it began, the tables) of the last check that found a difference
        self.checked = None  # type: Optional[Tuple[int, Dict[str, str]]]

    def context(self, node_name: str, node_ips: List[str], cluster_cidr: str) -> iptables_rules.ProxyContext:
        random_fully = True
        try:
            random_fully = self.host.modern()
        except (IptablesError, OSError) as exc:
            LOG.warning("iptables version: %s", exc)
        return iptables_rules.context(node_name, node_ips, cluster_cidr, random_fully)

    def rendered(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext) -> Dict[str, iptables_rules.ServiceRules]:
        """key -> rules of every entry; only entries whose mod_revision changed are rendered
        again (all of them when the context or the large-cluster mode changes)."""
        if ctx != self.ctx:
            self.cache, self.ctx = {}, ctx
        old = self.cache
        counts = []  # type: List[int]
        total = 0
        for key, revision, entry in items:
            hit = old.get(key)
            n = hit[1] if hit is not None and hit[0] == revision else iptables_rules.endpoint_count(entry)
            counts.append(n)
            total += n
        large = total > iptables_rules.LARGE_CLUSTER_ENDPOINTS
        if large != self.large:
            old, self.large = {}, large
        cache = {}  # type: Dict[str, Tuple[int, int, iptables_rules.ServiceRules]]
        out = {}  # type: Dict[str, iptables_rules.ServiceRules]
        for (key, revision, entry), n in zip(items, counts):
            hit = old.get(key)
            if hit is None or hit[0] != revision:
                hit = (revision, n, iptables_rules.render_service(entry, ctx, large))
            cache[key] = hit
            out[key] = hit[2]
        self.cache = cache
        return out

    def desired(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext) -> iptables_rules.RuleSet:
        """The whole RuleSet (every chain) of the map."""
        rules = self.rendered(items, ctx)
        return iptables_rules.assemble([rules[k] for k, _r, _e in items], ctx)

    def sync(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext, full: bool) -> str:
        """One sync: partial (only the changed Services' chains) or full (every chain, the
        host's stale chains deleted, its missing jump rules inserted). A full sync reads the
        host (iptables-save of both tables, and the service route) in a thread while it
        renders, and streams the restore input into iptables-restore as it is joined."""
        started = time.monotonic()
        full = full or self.applied is None or self.applied_shared is None
        try:
            return self._sync(items, ctx, full, started)
        finally:
            self.syncs += 1

    def _sync(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext, full: bool, started: float) -> str:
        checked, self.checked = self.checked, None
        # the repair check's save, when it found the difference this full sync repairs and
        # no sync ended (nor ran) since it began: the host is known, no second save
        known = checked[1] if full and checked is not None and checked[0] == self.syncs else None
        reading = self.host.call_in_background(self._read_host, ctx, known) if full else None
        try:
            rules = self.rendered(items, ctx)
        except BaseException:
            if reading is not None:
                try:
                    reading.result()  # never leave a save running behind a failed sync
                except (IptablesError, OSError):
                    pass
            raise
        order = [k for k, _r, _e in items]
        in_iptables = 0.0
        batch = self.batch()
        if reading is not None:
            ruleset = iptables_rules.assemble([rules[k] for k in order], ctx)
            shared = iptables_rules.shared_ruleset(ruleset)
            t = time.monotonic()
            saved = reading.result()
            in_iptables += time.monotonic() - t
            existing = dict((table, iptables_sync.parse_chains(text)) for table, text in saved.items())
            # the jump rules live in built-in chains, which the restore never flushes:
            # those the host lacks are inserted by the same restore, after their chains
            jumps = iptables_sync.absent_jumps(saved)
            chunks = iptables_sync.restore_chunks(ruleset, None, existing, jumps, batch)
        else:
            assert self.applied is not None and self.applied_shared is not None  # else full
            jumps = []
            text, shared = iptables_sync.partial_restore_text(rules, order, self.applied, self.applied_shared, ctx, batch)
            chunks = iter([text])
        counted = _Counted(chunks)
        t = time.monotonic()
        try:
            self.host.restore(counted)
        except IptablesError:
            self.applied = None  # unknown state: the next sync is a full one
            raise
        done = time.monotonic()
        in_iptables += done - t
        self.timing = (done - started - in_iptables, in_iptables)
        self.applied, self.applied_shared = rules, shared
        return "%d chains%s" % (counted.chains, ", %d jump rules restored" % len(jumps) if jumps else "")

    def _read_host(self, ctx: iptables_rules.ProxyContext, known: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        """What a full sync needs from the host: the service route made sure of, then one
        iptables-save per table (its chains and jump rules) unless known gives them."""
        if self.service_cidr and ctx.node_ips:
            self.host.ensure_service_route(self.service_cidr, ctx.node_ips[0])
        return known if known is not None else self.host.save_all()

    def batch(self) -> int:
        """Chains per transaction: NFT_BATCH with iptables-nft, 0 (one per table) with legacy,
        whose every transaction rewrites the whole table."""
        try:
            return NFT_BATCH if self.host.nft() else 0
        except (IptablesError, OSError):
            return 0

    def check(self) -> List[str]:
        """What differs between the host's tables and the rules last applied ([]: nothing;
        ["nothing applied yet"] before the first sync). One iptables-save per table."""
        if self.applied is None or self.applied_shared is None:
            return ["nothing applied yet"]
        pairs = list(self.applied_shared.items()) + [("nat", r.nat_chains) for r in self.applied.values()]
        written = iptables_repair.written_counts(pairs)
        began = self.syncs
        t = time.monotonic()
        saved = self.host.save_all()
        self.timing = (0.0, time.monotonic() - t)
        problems = iptables_repair.drift(saved, written)
        # the full sync that follows reuses this save if no sync ends meanwhile (at 10,000
        # Services a save of both tables takes 0.4-1.4 s with legacy, 1.6-3.3 s with nft)
        self.checked = (began, saved) if problems else None
        return problems

    def forget(self) -> None:
        self.applied = None


class Proxier(object):
    """Keeps one host's service rules (and, through on_synced, its DNS) equal to the map."""

    def __init__(
        self,
        client: EtcdClient,
        backend: Any,
        node_name: str,
        node_ips: Callable[[], List[str]],
        cluster_cidr: Callable[[], str],
        on_synced: Optional[Callable[[List[Obj]], Any]] = None,
        resync: float = RESYNC,
        debounce: float = DEBOUNCE,
        full_resync: float = FULL_RESYNC,
    ) -> None:
        self.backend = backend
        self.node_name = node_name
        self.node_ips = node_ips
        self.cluster_cidr = cluster_cidr
        self.on_synced = on_synced
        self.resync = resync
        # a backend without check() (ipvs) repairs by a full sync every resync seconds
        self.full_resync = full_resync if hasattr(backend, "check") else resync
        self.debounce = debounce
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.changed_at = 0.0  # monotonic time of the first change not yet applied
        self.informer = Informer(client, servicemap.PREFIX, self._changed, resync=max(resync * 2, 60.0))
        self.last_full = 0.0
        self.last_check = 0.0
        self.last_sync = 0.0
        self.need_full = True
        self.syncs = 0
        self.lock = threading.Lock()  # one sync at a time; the check sees syncs whole

    def _changed(self) -> None:
        if not self.changed_at:
            self.changed_at = time.monotonic()
        self.wake.set()

    def items(self) -> List[Tuple[str, int, Obj]]:
        """(key, mod_revision, entry) of every decodable entry, sorted by key (namespace/name)."""
        out = []  # type: List[Tuple[str, int, Obj]]
        for key, (revision, obj) in sorted(self.informer.snapshot().items()):
            if isinstance(obj.get("ports"), list):
                out.append((key, revision, obj))
        return out

    def sync_once(self) -> Optional[str]:
        """One sync (full when due, or when the repair check finds the host's rules differ
        from what was written); None when not ready yet (no map listed, no pod network)."""
        cidr = self.cluster_cidr()
        if not self.informer.synced or not cidr:
            return None
        started = time.monotonic()
        full = self.need_full or started - self.last_full >= self.full_resync
        changed_at, self.changed_at = self.changed_at, 0.0
        items = self.items()
        ctx = self.backend.context(self.node_name, self.node_ips(), cidr)
        with self.lock:
            try:
                summary = self.backend.sync(items, ctx, full)
            except (IptablesError, OSError) as exc:
                self.need_full = True
                self.changed_at = changed_at or started
                raise IptablesError("%s sync: %s" % (self.backend.name, exc))
            done = time.monotonic()
            if full:
                self.last_full, self.last_check, self.need_full = done, done, False
            self.syncs += 1
            self.last_sync = done
        if self.on_synced is not None:
            self.on_synced([e for _k, _r, e in items])
        latency = " (%.0f ms after the change)" % ((done - changed_at) * 1000) if changed_at else ""
        msg = "%s %s sync of %d services: %s in %.0f ms%s" % (
            "full" if full else "partial",
            self.backend.name,
            len(items),
            summary,
            (done - started) * 1000,
            latency,
        )
        if not changed_at:  # periodic (or the start): nothing came from the map
            LOG.debug("%s", msg)
        else:
            LOG.info("%s", msg)
        return msg

    def check_once(self) -> Optional[str]:
        """The repair check: the host's rules against what was written; a difference makes
        the next sync (right away) a full one. None when there is nothing to check yet or
        a sync overlapped the check (its result is thrown away)."""
        started = time.monotonic()
        with self.lock:
            if self.need_full or not self.syncs:
                return None
            generation = self.syncs
        try:
            problems = self.backend.check()
        except (IptablesError, OSError) as exc:
            problems = ["cannot read the rules: %s" % exc]
        with self.lock:
            self.last_check = time.monotonic()
            if self.syncs != generation:
                return None
            if not problems:
                msg = "%s rules as written (checked in %.0f ms)" % (self.backend.name, (self.last_check - started) * 1000)
                LOG.debug("%s", msg)
                return msg
            self.need_full = True
        msg = "%s rules differ from what was written (%s): full sync" % (self.backend.name, "; ".join(problems))
        LOG.warning("%s", msg)
        self.wake.set()
        return msg

    def check_loop(self) -> None:
        while not self.stop.wait(max(0.05, self.resync - (time.monotonic() - self.last_check))):
            try:
                self.check_once()
            except Exception as exc:  # the check is best effort; the hourly full sync repairs anyway
                LOG.error("repair check: %s", exc)
                self.last_check = time.monotonic()

    def loop(self) -> None:
        while not self.stop.is_set():
            # a partial sync every resync seconds too (kube-proxy's periodic sync): nothing to
            # write when nothing changed, and it follows a change of the node's addresses
            now = time.monotonic()
            self.wake.wait(max(0.05, min(self.resync - (now - self.last_sync), self.full_resync - (now - self.last_full))))
            if self.stop.is_set():
                return
            if self.wake.is_set():
                self.stop.wait(self.debounce)
                self.wake.clear()
            try:
                if self.sync_once() is None:
                    self.stop.wait(0.5)
            except (IptablesError, OSError) as exc:
                LOG.error("%s", exc)
                self.stop.wait(1.0)

    def start(self) -> None:
        targets = [(self.informer.run, (self.stop,), "servicemap-watch"), (self.loop, (), "proxier")]  # type: List[Tuple[Callable[..., None], Tuple[Any, ...], str]]
        if hasattr(self.backend, "check"):
            targets.append((self.check_loop, (), "proxier-check"))
        for target, args, name in targets:
            thread = threading.Thread(target=target, args=args, name=name)
            thread.daemon = True
            thread.start()

    def request_stop(self) -> None:
        self.stop.set()
        self.wake.set()


class _Counted(object):
    """The restore input's pieces, passed through, counting the chains they write or
    delete (for the sync's log line) without keeping the whole text."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self.pieces = pieces
        self.chains = 0

    def __iter__(self) -> Iterator[str]:
        for piece in self.pieces:
            self.chains += iptables_sync.changed_chains(piece)
            yield piece
