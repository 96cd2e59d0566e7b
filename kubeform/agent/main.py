"""The agent's loop: heartbeat, subnet lease, subnet.env, Node object, overlay - converge, repeat.

Why this shape: level-triggered. Every iteration reads the world (etcd and the host) and
converges it; a watch on the subnets prefix only wakes the loop early. The heartbeat runs
in its own thread so a slow overlay command never makes the node look dead. SIGTERM stops
cleanly and, when the host is shutting down, revokes the heartbeat lease so the node turns
NotReady at once (a restart of the agent alone, as `up` does on an upgrade, leaves the
lease to its TTL: the next agent renews it in a second or two, and the node lifecycle
controller never sees a gap that would evict the node's pods). The node
runtime (runtime/manager.py: pods bound to this node made real) runs in its own threads
beside them; stopping the agent leaves containers running (a restarted agent adopts them).
"""

import argparse
import datetime
import faulthandler
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

from . import flannel, hoststate, node, overlay
from .config import AgentConfig, ConfigError, load_config
from kubeform.api.daemonconfig import log_to_stderr
from kubeform.api.etcd import EtcdClient, EtcdError, key_absent, key_unchanged, op_delete, op_put
from .executor import CommandError, Executor, write_file_atomic
from .dns.dnsmasq import DnsRecords
from .proxy.iptables_host import IptablesHost
from .proxy.proxier import IptablesBackend, Proxier
from .runtime.driver import Driver
from .runtime.manager import RuntimeManager

LOG = logging.getLogger("kubeform.agent")


def host_stopping():
    # type: () -> bool
    """Is the host shutting down (or can we not tell)? systemd says "stopping" during a
    shutdown or reboot; without systemd (tests, containers) we assume the node goes away."""
    if not os.path.isdir("/run/systemd/system"):
        return True
    try:
        out = subprocess.run(
            ["systemctl", "is-system-running"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=3
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return True
    return out.decode(errors="replace").strip() == "stopping"


class TryAgain(Exception):
    """Someone else won a race for a subnet; pick again."""


class Agent(object):
    """One node's agent: owns its heartbeat, its subnet lease and its overlay."""

    def __init__(self, cfg, client=None, executor=None, facts=None):
        # type: (AgentConfig, Optional[EtcdClient], Optional[Executor], Optional[Dict[str, Any]]) -> None
        self.cfg = cfg
        self.client = client or EtcdClient(cfg.etcd_endpoints, cfg.etcd_ca, cfg.etcd_cert, cfg.etcd_key)
        self.executor = executor or Executor(cfg.netns)
        self._facts = facts
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.heartbeat_lease = 0
        self.subnet = None  # type: Optional[Any]
        self.public_ip = ""
        self.interface = ""
        self.external_mtu = 1500
        self.runtime = None  # type: Optional[RuntimeManager]
        self.node_usage = node.NodeUsage(os.cpu_count() or 1)
        self.pod_network = ""  # the flannel Network (the cluster CIDR), once read
        self.proxier = None  # type: Optional[Proxier]

    # -- identity ------------------------------------------------------------------------

    def discover(self):
        # type: () -> None
        """Which address this host uses on the cluster network, and that link's MTU."""
        if self.cfg.public_ip:
            self.public_ip = self.cfg.public_ip
            self.interface, self.external_mtu = self.executor.interface_for(self.public_ip)
        else:
            self.interface, self.public_ip, self.external_mtu = self.executor.interface_facts(self.cfg.interface)
        LOG.info("public IP %s on %s (MTU %d)", self.public_ip, self.interface, self.external_mtu)

    # -- heartbeat ----------------------------------------------------------------------

    def heartbeat_once(self):
        # type: () -> None
        """Keep the 10 s lease alive and refresh renewTime; re-create both if the lease lapsed."""
        key = node.heartbeat_key(self.cfg.node_name)
        if self.heartbeat_lease and self.client.lease_keepalive(self.heartbeat_lease) <= 0:
            LOG.warning("heartbeat lease expired; taking a new one")
            self.heartbeat_lease = 0
        if not self.heartbeat_lease:
            self.heartbeat_lease = self.client.lease_grant(node.HEARTBEAT_TTL)
        now = datetime.datetime.utcnow()
        self.client.put(key, node.render_heartbeat(self.cfg.node_name, now, self.measure()), lease=self.heartbeat_lease)

    def measure(self):
        # type: () -> Optional[Dict[str, Any]]
        """The host's usage for the heartbeat (None when /proc cannot be read)."""
        try:
            with open("/proc/stat") as f:
                stat = f.read()
            with open("/proc/meminfo") as f:
                meminfo = f.read()
        except OSError:
            return None
        return self.node_usage.sample(stat, meminfo, time.time())

    def heartbeat_loop(self):
        # type: () -> None
        while not self.stop.is_set():
            try:
                self.heartbeat_once()
            except (EtcdError, OSError, ValueError) as exc:
                LOG.error("heartbeat: %s", exc)
            self.stop.wait(node.HEARTBEAT_INTERVAL)

    # -- subnet -------------------------------------------------------------------------

    def read_network(self):
        # type: () -> Any
        prefix = self.cfg.flannel_prefix
        kv = self.client.get(prefix + "/config")
        if kv is None:
            raise flannel.FlannelError("no flannel config at %s/config yet" % prefix)
        config = flannel.parse_config(kv.value)
        kvs, _ = self.client.range(prefix + "/subnets/", prefix=True)
        leases = []  # type: List[flannel.Lease]
        for item in kvs:
            lease = flannel.parse_lease(item.key, item.value, item.lease, item.mod_revision)
            if lease is not None:
                leases.append(lease)
        return config, leases

    def ensure_subnet(self, config, leases):
        # type: (flannel.NetworkConfig, List[flannel.Lease]) -> flannel.Lease
        """Reuse the lease with my PublicIP (renewing it), or win a free subnet by transaction."""
        prefix = self.cfg.flannel_prefix
        decision = flannel.choose_subnet(config, leases, self.public_ip)
        for stale in decision.stale:
            key = flannel.subnet_key(stale.subnet, prefix)
            LOG.info("deleting my lease %s: it does not fit the network config", stale.subnet)
            self.client.txn([key_unchanged(key, stale.mod_revision)], [op_delete(key)])
        value = flannel.render_lease(
            self.public_ip, config.backend_type, config.vni, flannel.vtep_mac_for(self.public_ip)
        )
        key = flannel.subnet_key(decision.subnet, prefix)
        if decision.action == "reuse":
            lease = decision.lease
            assert lease is not None
            if lease.lease_id:
                ttl = self.client.lease_ttl(lease.lease_id)
                if 0 <= ttl < flannel.SUBNET_TTL - flannel.RENEW_MARGIN:
                    LOG.info("renewing subnet lease %s (%d s left)", lease.subnet, ttl)
                    self.client.lease_keepalive(lease.lease_id)
            if lease.raw != value:
                ok, _ = self.client.txn([key_unchanged(key, lease.mod_revision)], [op_put(key, value, lease.lease_id)])
                if not ok:
                    raise TryAgain()
            return flannel.parse_lease(key, value, lease.lease_id) or lease
        lease_id = self.client.lease_grant(flannel.SUBNET_TTL)
        ok, _ = self.client.txn([key_absent(key)], [op_put(key, value, lease_id)])
        if not ok:
            self.client.lease_revoke(lease_id)
            raise TryAgain()
        LOG.info("acquired subnet %s", decision.subnet)
        mine = flannel.parse_lease(key, value, lease_id)
        assert mine is not None
        return mine

    # -- node object --------------------------------------------------------------------

    def facts(self):
        # type: () -> Dict[str, Any]
        if self._facts is None:
            self._facts = node.gather_facts(self.public_ip)
        return self._facts

    def register_node(self, pod_cidr):
        # type: (str) -> None
        key = node.node_key(self.cfg.node_name)
        existing = self.client.get(key)
        current = None  # type: Optional[Dict[str, Any]]
        created = datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
        if existing is not None:
            try:
                current = json.loads(existing.value)
                created = current.get("metadata", {}).get("creationTimestamp", created)
            except ValueError:
                current = None
        wanted = node.render_node(
            self.cfg.node_name, self.cfg.roles, self.facts(), pod_cidr, created, node.parse_taints(self.cfg.taints, self.cfg.path)
        )
        if node.node_needs_write(current, wanted):
            compare = [key_unchanged(key, existing.mod_revision)] if existing else [key_absent(key)]
            ok, _ = self.client.txn(compare, [op_put(key, json.dumps(wanted, sort_keys=True))])
            LOG.info("node %s %s", self.cfg.node_name, "registered" if ok else "changed meanwhile; next loop")

    # -- one iteration ------------------------------------------------------------------

    def sync_once(self):
        # type: () -> List[str]
        """One full convergence; returns the overlay commands it ran."""
        config, leases = self.read_network()
        self.pod_network = str(config.network)
        mine = None
        for _ in range(10):
            try:
                mine = self.ensure_subnet(config, leases)
                break
            except TryAgain:
                config, leases = self.read_network()
        if mine is None:
            raise flannel.FlannelError("could not acquire a subnet after 10 tries")
        self.subnet = mine.subnet
        mtu = flannel.overlay_mtu(config, self.external_mtu)
        if write_file_atomic(self.cfg.subnet_env, flannel.render_subnet_env(config, mine.subnet, mtu, self.cfg.ip_masq)):
            LOG.info("wrote %s", self.cfg.subnet_env)
        self.register_node(str(mine.subnet))
        desired = overlay.desired_state(
            config, mine.subnet, self.public_ip, self.external_mtu, leases, self.interface or None, self.cfg.ip_masq
        )
        current = hoststate.parse_state(self.executor.read_state())
        cmds = overlay.plan(desired, current)
        self.executor.apply(cmds)
        return overlay.render(cmds)

    def watch_loop(self):
        # type: () -> None
        """Wake the main loop when a subnet lease changes (a hint, never the source of truth)."""
        prefix = self.cfg.flannel_prefix + "/subnets/"
        while not self.stop.is_set():
            try:
                for _ in self.client.watch(prefix, prefix=True):
                    self.wake.set()
                    if self.stop.is_set():
                        return
            except Exception as exc:  # the watch is best effort; the loop resyncs anyway
                LOG.debug("watch: %s", exc)
            self.stop.wait(1.0)

    # -- node runtime -------------------------------------------------------------------

    def start_runtime(self, driver=None):
        # type: (Optional[Driver]) -> None
        """Start the pod lifecycle threads (a driver that cannot load is logged, not fatal)."""
        if driver is None:
            driver = make_driver(self.cfg)
        if driver is None:
            return
        self.runtime = RuntimeManager(
            self.client,
            driver,
            self.cfg.node_name,
            self.cfg.state_dir,
            self.cfg.pod_log_dir,
            lambda: self.public_ip,
            ca_file=self.cfg.registry_ca,
        )
        self.runtime.start()
        LOG.info("node runtime %s started", driver.name)

    # -- services -------------------------------------------------------------------------

    def start_proxier(self):
        # type: () -> None
        """Service rules (iptables or ipvs) and DNS records from the service map."""
        cfg = self.cfg
        if cfg.proxy_mode == "none":
            return
        backend = make_proxy_backend(cfg)
        dns = DnsRecords(cfg.dns_hosts_file, cfg.dns_pid_file, cfg.cluster_domain, cfg.dns_cname_file)
        self.proxier = Proxier(
            self.client,
            backend,
            cfg.node_name,
            lambda: list(cfg.nodeport_addresses) or [self.public_ip],
            lambda: self.pod_network,
            on_synced=dns.update,
            resync=cfg.proxy_resync_seconds,
        )
        self.proxier.start()
        LOG.info("service proxy (%s mode) started", backend.name)

    def run(self):
        # type: () -> None
        self.discover()
        self.start_runtime()
        self.start_proxier()
        beat = threading.Thread(target=self.heartbeat_loop, name="heartbeat")
        beat.daemon = True
        beat.start()
        watcher = threading.Thread(target=self.watch_loop, name="watch")
        watcher.daemon = True
        watcher.start()
        while not self.stop.is_set():
            self.wake.clear()
            try:
                self.sync_once()
            except (EtcdError, CommandError, flannel.FlannelError, OSError, ValueError) as exc:
                LOG.error("sync: %s", exc)
            self.wake.wait(self.cfg.resync_seconds)
        beat.join(timeout=5)
        if self.runtime is not None:
            self.runtime.request_stop()
        if self.proxier is not None:
            self.proxier.request_stop()
        self.shutdown(revoke=host_stopping())

    def shutdown(self, revoke=True):
        # type: (bool) -> None
        """Revoke the heartbeat lease (the node goes NotReady now, not in 10 s), or, for a
        restart of the agent alone, leave it to lapse unless the next agent renews it."""
        if not revoke:
            LOG.info("stopping; heartbeat left to its TTL (the host is not shutting down)")
            self.heartbeat_lease = 0
            return
        if self.heartbeat_lease:
            try:
                self.client.lease_revoke(self.heartbeat_lease)
                LOG.info("heartbeat revoked; node %s is NotReady", self.cfg.node_name)
            except EtcdError as exc:
                LOG.error("revoking heartbeat: %s", exc)
            self.heartbeat_lease = 0

    def request_stop(self, *_args):
        # type: (Any) -> None
        self.stop.set()
        self.wake.set()


def make_proxy_backend(cfg):
    # type: (AgentConfig) -> Any
    """The service proxy's backend for the configured mode."""
    if cfg.proxy_mode == "ipvs":
        from .proxy.ipvs import IpvsBackend

        return IpvsBackend(IptablesHost(cfg.netns), cfg.netns)
    return IptablesBackend(IptablesHost(cfg.netns), cfg.service_cidr)


def make_driver(cfg):
    # type: (AgentConfig) -> Optional[Driver]
    """The container runtime the config names (crun or docker); None when it cannot load."""
    try:
        if cfg.runtime == "docker":
            from .runtime.docker import DockerDriver

            return DockerDriver.from_config(cfg)
        from .runtime.crun import CrunDriver

        return CrunDriver(cfg)
    except (ImportError, OSError, ValueError) as exc:
        LOG.error("node runtime %s unavailable, pods will not run here: %s", cfg.runtime, exc)
        return None


def main(argv=None):
    # type: (Optional[List[str]]) -> int
    parser = argparse.ArgumentParser(prog="python3 -m kubeform.agent", description="kubeform node agent")
    parser.add_argument("--config", default="/etc/kubeform/agent.json", help="agent config file (JSON)")
    parser.add_argument("--once", action="store_true", help="converge once and exit (debugging)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    log_to_stderr(args.verbose)
    try:
        cfg = load_config(args.config)
    except ConfigError as exc:
        LOG.error("%s", exc)
        return 2
    agent = Agent(cfg)
    signal.signal(signal.SIGTERM, agent.request_stop)
    signal.signal(signal.SIGINT, agent.request_stop)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1`: every thread's stack into the journal
    try:
        if args.once:
            agent.discover()
            agent.heartbeat_once()
            for line in agent.sync_once():
                print(line)
            return 0
        agent.run()
    except (EtcdError, CommandError, flannel.FlannelError) as exc:
        LOG.error("%s", exc)
        agent.shutdown()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
