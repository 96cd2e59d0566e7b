"""The proxier: watch the service map, keep this host's rules (and DNS records) equal to it.

Why this shape: level-triggered. An informer (list + watch of the service-map prefix,
relisted on any break) keeps the whole map in memory; any change only wakes the loop,
which waits a short debounce (a burst of endpoint changes becomes one sync), renders
the desired rules from the whole map and applies the difference to what it last applied.
A full sync (every chain written, stale chains found with iptables-save and deleted,
jump rules checked) runs at start, after any failure and every ``resync`` seconds, so
rules someone deleted by hand come back and a restarted agent converges from nothing.
Nothing is applied before the informer's first list: an empty cache must never wipe
the rules of a running cluster.

Rendering is cached per Service (keyed by its map key and its value's mod_revision): a
one-endpoint change re-renders one Service, then joins the cached rules of the others.
"""

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from kubeform.api import servicemap
from kubeform.api.etcd import EtcdClient

from ..runtime.informer import Informer
from . import iptables_rules, iptables_sync
from .iptables_host import IptablesError, IptablesHost

LOG = logging.getLogger("kubeform.agent.proxy")

Obj = Dict[str, Any]

DEBOUNCE = 0.02  # s: endpoint changes arriving together become one sync
RESYNC = 30.0  # s: full sync (kube-proxy's default syncPeriod)


class IptablesBackend(object):
    """iptables mode: render (cached per Service), diff against the last applied, restore.

    A partial sync looks only at the Services whose map entry changed (iptables_sync.
    partial_restore_text); a full sync assembles every chain and also reads the host's
    tables (stale chains, missing jump rules). ``timing`` holds the last sync's seconds
    spent rendering (Python) and in iptables (save and restore), for logs and the bench."""

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
        started = time.monotonic()
        rules = self.rendered(items, ctx)
        order = [k for k, _r, _e in items]
        saved = None  # type: Optional[Dict[str, str]]
        in_iptables = 0.0
        if full or self.applied is None or self.applied_shared is None:
            full = True
            ruleset = iptables_rules.assemble([rules[k] for k in order], ctx)
            shared = iptables_rules.shared_ruleset(ruleset)
            t = time.monotonic()
            if self.service_cidr and ctx.node_ips:
                self.host.ensure_service_route(self.service_cidr, ctx.node_ips[0])
            saved = self.host.save_all()
            in_iptables += time.monotonic() - t
            existing = dict((table, iptables_sync.parse_chains(text)) for table, text in saved.items())
            text = iptables_sync.restore_text(ruleset, None, existing)
        else:
            text, shared = iptables_sync.partial_restore_text(rules, order, self.applied, self.applied_shared, ctx)
        t = time.monotonic()
        try:
            self.host.restore(text)
        except IptablesError:
            self.applied = None  # unknown state: the next sync is a full one
            raise
        jumps = 0
        if saved is not None:
            # the jump rules live in built-in chains, which the restore never names:
            # what the save before it lacked is what to insert now that the chains exist
            jumps = self.host.ensure_jumps(saved)
        done = time.monotonic()
        in_iptables += done - t
        self.timing = (done - started - in_iptables, in_iptables)
        self.applied, self.applied_shared = rules, shared
        return "%d chains%s" % (iptables_sync.changed_chains(text), ", %d jump rules restored" % jumps if jumps else "")

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
    ) -> None:
        self.backend = backend
        self.node_name = node_name
        self.node_ips = node_ips
        self.cluster_cidr = cluster_cidr
        self.on_synced = on_synced
        self.resync = resync
        self.debounce = debounce
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.changed_at = 0.0  # monotonic time of the first change not yet applied
        self.informer = Informer(client, servicemap.PREFIX, self._changed, resync=max(resync * 2, 60.0))
        self.last_full = 0.0
        self.need_full = True
        self.syncs = 0

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
        """One sync (full when due); None when not ready yet (no map listed, no pod network)."""
        cidr = self.cluster_cidr()
        if not self.informer.synced or not cidr:
            return None
        started = time.monotonic()
        changed_at, self.changed_at = self.changed_at, 0.0
        full = self.need_full or started - self.last_full >= self.resync
        items = self.items()
        ctx = self.backend.context(self.node_name, self.node_ips(), cidr)
        try:
            summary = self.backend.sync(items, ctx, full)
        except (IptablesError, OSError) as exc:
            self.need_full = True
            self.changed_at = changed_at or started
            raise IptablesError("%s sync: %s" % (self.backend.name, exc))
        done = time.monotonic()
        if full:
            self.last_full, self.need_full = done, False
        self.syncs += 1
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
        if full and not changed_at:
            LOG.debug("%s", msg)
        else:
            LOG.info("%s", msg)
        return msg

    def loop(self) -> None:
        while not self.stop.is_set():
            timeout = max(0.05, self.resync - (time.monotonic() - self.last_full))
            self.wake.wait(timeout)
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
        for target, name in ((self.informer.run, "servicemap-watch"), (self.loop, "proxier")):
            thread = threading.Thread(target=target, args=(self.stop,) if target == self.informer.run else (), name=name)
            thread.daemon = True
            thread.start()

    def request_stop(self) -> None:
        self.stop.set()
        self.wake.set()
