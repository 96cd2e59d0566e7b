"""The reconciler daemon: leader election, and while leading informers, workers, writer.

Every master runs one; the elector (leader.py) makes one of them the leader. A term of
leadership starts fresh: informers list and watch every prefix the controllers need into
a new cache; when every prefix is listed, each controller's workers take keys from its
queue, call its pure ``sync`` and hand the actions to the one writer. When leadership is
lost the term stops: the writer's guard turns None at once (nothing more is written,
and etcd refuses any transaction already on its way, since each compares the leader
key's lease), queues shut down, threads end. SIGTERM ends the term and revokes the
leader lease so a standby takes over immediately. Logs go to stderr (journald).
"""

import argparse
import datetime
import logging
import os
import signal
import threading
import time
from typing import Any, Dict, List, Optional

from kubeform.api.daemonconfig import log_to_stderr
from kubeform.api.etcd import EtcdClient, EtcdError

from .config import ConfigError, ReconcilerConfig, load_config
from .controllers import CONTROLLERS, configured, localvolumes, watched_prefixes
from .controllers.base import Controller
from .leader import Elector
from .machinery.actions import Create, requeue_after, writes
from .machinery.cache import Cache, Change
from .machinery.informer import Informer
from .machinery.workqueue import WorkQueue
from .machinery.writer import CONFLICT, DONE, NOT_LEADER, Writer

LOG = logging.getLogger("kubeform.reconciler")

#: Workers wait for the first list of every prefix; after this long they say so in the log.
SYNC_WARN = 30.0


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class Term(object):
    """Everything that runs while this process leads; thrown away when it stops leading."""

    def __init__(self, client: Any, controllers: List[Controller], guard: Any, host: str = "") -> None:
        self.stop = threading.Event()
        self.controllers = controllers
        self.cache = Cache()
        self.queues: Dict[str, WorkQueue] = {c.name: WorkQueue() for c in controllers}
        self.writer = Writer(client, lambda: None if self.stop.is_set() else guard(), self.cache, host, on_change=self.dispatch)
        self.informers = [
            Informer(client, prefix, self.cache, self.dispatch) for prefix in watched_prefixes(controllers)
        ]
        self.threads: List[threading.Thread] = []

    def dispatch(self, change: Change) -> None:
        """A cache change: every controller watching its prefix says which keys to requeue."""
        for c in self.controllers:
            if change.key.startswith(c.primary) or any(change.key.startswith(p) for p in c.watches):
                for key in c.related(change, self.cache):
                    self.queues[c.name].add(key)

    def _thread(self, name: str, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, name=name)
        t.daemon = True
        t.start()
        self.threads.append(t)

    def start(self) -> None:
        for informer in self.informers:
            self._thread("informer " + informer.prefix, informer.run, self.stop)
        for c in self.controllers:
            for n in range(c.workers):
                self._thread("%s worker %d" % (c.name, n), self.work, c)
            self._thread("%s resync" % c.name, self.resync, c)

    def wait_synced(self) -> bool:
        """Until every prefix has been listed once (False: the term ended first).

        Deciding earlier would decide on half a world (pods listed, nodes not yet).
        """
        started = time.monotonic()
        warned = False
        for informer in self.informers:
            while not informer.synced.wait(0.5):
                if self.stop.is_set():
                    return False
                if not warned and time.monotonic() - started > SYNC_WARN:
                    LOG.warning("still waiting for the first list of %s", informer.prefix)
                    warned = True
        return True

    def resync(self, c: Controller) -> None:
        """Every ``c.resync`` seconds, every primary key again (level-triggered safety net)."""
        while not self.stop.wait(c.resync):
            for key in self.cache.keys(c.primary):
                self.queues[c.name].add(key)

    def work(self, c: Controller) -> None:
        if not self.wait_synced():
            return
        queue = self.queues[c.name]
        while not self.stop.is_set():
            key = queue.get(timeout=1.0)
            if key is None:
                continue
            try:
                self.sync_one(c, queue, key)
            except Exception:  # never lose a worker: a bug is logged and the key retried
                LOG.exception("%s: %s", c.name, key)
                queue.add_rate_limited(key)
            finally:
                queue.done(key)

    def sync_one(self, c: Controller, queue: WorkQueue, key: str) -> None:
        actions: List[Any] = []
        try:
            actions = c.sync(key, self.cache, utcnow())
            outcome = self.writer.perform(actions)
        except (EtcdError, OSError) as exc:
            delay = queue.add_rate_limited(key)
            LOG.warning("%s: %s: %s (again in %.1f s)", c.name, key, exc, delay)
            if c.failed is not None and any(isinstance(a, Create) for a in actions):
                self.record_failure(c, key, str(exc))
            return
        except Exception:  # a bug in one key's decision must not stop the worker
            LOG.exception("%s: %s", c.name, key)
            queue.add_rate_limited(key)
            return
        if outcome == DONE:
            queue.forget(key)
            written = writes(actions)
            if written:
                LOG.info("%s: %s: %s", c.name, key, ", ".join(_describe(a) for a in written))
            after = requeue_after(actions)
            if c.wake is not None:
                later = c.wake(key, self.cache, utcnow())
                if later is not None:
                    after = later if after is None else min(after, later)
            if after is not None:
                queue.add_after(key, max(after, 0.05))
        elif outcome == CONFLICT:
            LOG.info("%s: %s changed meanwhile; deciding again", c.name, key)
            queue.add_rate_limited(key)
        elif outcome == NOT_LEADER:
            LOG.warning("%s: not the leader any more; %s not written", c.name, key)

    def record_failure(self, c: Controller, key: str, error: str) -> None:
        """Creates failed: write what the controller records about it (best effort; the
        key is already queued again with back-off)."""
        assert c.failed is not None
        try:
            self.writer.perform(c.failed(key, self.cache, utcnow(), error))
        except Exception as exc:  # the next attempt records it again
            LOG.warning("%s: %s: could not record the failure: %s", c.name, key, exc)

    def halt(self) -> None:
        self.stop.set()
        for queue in self.queues.values():
            queue.shutdown()


def _describe(action: Any) -> str:
    name = type(action).__name__
    if name == "CreateEvent":
        return "event %s" % action.reason
    if name == "Create":
        meta = action.obj.get("metadata") or {}
        where = "%s/" % meta["namespace"] if meta.get("namespace") else ""
        return "create %s%s%s" % (action.prefix, where, meta.get("name") or str(meta.get("generateName") or "") + "*")
    return "%s %s" % (name.lower(), action.key)


class Daemon(object):
    """Elects, and runs a Term while leading."""

    def __init__(self, cfg: ReconcilerConfig, client: Optional[Any] = None, controllers: Optional[List[Controller]] = None, identity: Optional[str] = None) -> None:
        self.cfg = cfg
        self.client = client or EtcdClient(cfg.etcd_endpoints, cfg.etcd_ca, cfg.etcd_cert, cfg.etcd_key)
        controllers = controllers if controllers is not None else configured(list(CONTROLLERS), cfg.pod_eviction_seconds)
        self.controllers = localvolumes.with_root(controllers, cfg.local_volume_root)
        self.identity = identity or "%s_%s" % (cfg.node_name, os.urandom(4).hex())
        self.elector = Elector(self.client, self.identity, ttl=int(cfg.lease_ttl), renew=cfg.renew_seconds)
        self.stop = threading.Event()
        self.term: Optional[Term] = None

    def start_term(self) -> None:
        self.term = Term(self.client, self.controllers, self.elector.guard, self.cfg.node_name)
        self.term.start()
        LOG.info("leading: informers on %s", ", ".join(i.prefix for i in self.term.informers))

    def stop_term(self) -> None:
        if self.term is not None:
            self.term.halt()
            self.term = None

    def run(self) -> None:
        LOG.info("reconciler %s starting (lease TTL %ds)", self.identity, int(self.cfg.lease_ttl))
        try:
            self.elector.run(self.stop, self.start_term, self.stop_term)
        finally:
            self.elector.release(self.stop_term)
            self.stop_term()

    def request_stop(self, *_args: Any) -> None:
        self.stop.set()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m kubeform.reconciler", description="kubeform reconciler")
    parser.add_argument("--config", default="/etc/kubeform/reconciler.json", help="config file (JSON)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    log_to_stderr(args.verbose)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        LOG.error("%s", exc)
        return 2
    daemon = Daemon(cfg)
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    daemon.run()
    return 0
