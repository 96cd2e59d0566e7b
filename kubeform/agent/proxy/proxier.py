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
    """iptables mode: render (cached per Service), diff against the last applied, restore."""

    name = "iptables"

    def __init__(self, host: IptablesHost) -> None:
        self.host = host
        self.applied = None  # type: Optional[iptables_rules.RuleSet]
        self.cache = {}  # type: Dict[str, Tuple[int, bool, iptables_rules.ServiceRules]]
        self.ctx = None  # type: Optional[iptables_rules.ProxyContext]

    def context(self, node_name: str, node_ips: List[str], cluster_cidr: str) -> iptables_rules.ProxyContext:
        random_fully = True
        try:
            random_fully = self.host.modern()
        except (IptablesError, OSError) as exc:
            LOG.warning("iptables version: %s", exc)
        return iptables_rules.context(node_name, node_ips, cluster_cidr, random_fully)

    def desired(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext) -> iptables_rules.RuleSet:
        if ctx != self.ctx:
            self.cache, self.ctx = {}, ctx
        large = iptables_rules.is_large(e for _k, _r, e in items)
        rendered = []  # type: List[iptables_rules.ServiceRules]
        cache = {}  # type: Dict[str, Tuple[int, bool, iptables_rules.ServiceRules]]
        for key, revision, entry in items:
            hit = self.cache.get(key)
            if hit is not None and hit[0] == revision and hit[1] == large:
                rules = hit[2]
            else:
                rules = iptables_rules.render_service(entry, ctx, large)
            cache[key] = (revision, large, rules)
            rendered.append(rules)
        self.cache = cache
        return iptables_rules.assemble(rendered, ctx)

    def sync(self, items: List[Tuple[str, int, Obj]], ctx: iptables_rules.ProxyContext, full: bool) -> str:
        desired = self.desired(items, ctx)
        saved = None  # type: Optional[Dict[str, str]]
        existing = None  # type: Optional[Dict[str, Any]]
        if full:
            saved = self.host.save_all()
            existing = dict((t, iptables_sync.parse_chains(text)) for t, text in saved.items())
        text = iptables_sync.restore_text(desired, None if full else self.applied, existing)
        try:
            self.host.restore(text)
        except IptablesError:
            self.applied = None  # unknown state: the next sync is a full one
            raise
        self.applied = desired
        jumps = 0
        if saved is not None:
            jumps = self.host.ensure_jumps(self.host.save_all() if text else saved)
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
