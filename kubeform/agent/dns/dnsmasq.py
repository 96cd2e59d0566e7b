"""The agent's side of the node DNS: write the records file atomically, make dnsmasq re-read it.

Why SIGHUP and not a restart: dnsmasq re-reads its --addn-hosts files on SIGHUP and keeps
answering meanwhile; a restart would drop queries. The file is written by rename (dnsmasq
never reads half of it) with mode 0644 in a 0755 directory, so dnsmasq can still read it
after it drops root. dnsmasq itself runs under kubeform-dns.service, which `kubeform up`
installs (playbooks/site.yml); its pid file tells the agent whom to signal.
"""

import logging
import os
import signal
from typing import Any, Dict, List

from ..executor import write_file_atomic
from . import records

LOG = logging.getLogger("kubeform.agent.dns")


class DnsRecords(object):
    def __init__(self, hosts_file: str, pid_file: str, domain: str) -> None:
        self.hosts_file = hosts_file
        self.pid_file = pid_file
        self.domain = domain
        self.reloads = 0

    def update(self, entries: List[Dict[str, Any]]) -> bool:
        """Write the records; signal dnsmasq when they changed. True when they changed."""
        text = records.hosts_text(entries, self.domain)
        try:
            changed = write_file_atomic(self.hosts_file, text, 0o644)
        except OSError as exc:
            LOG.error("writing %s: %s", self.hosts_file, exc)
            return False
        if changed:
            self.reload()
        return changed

    def reload(self) -> None:
        try:
            with open(self.pid_file) as f:
                pid = int(f.read().strip() or "0")
        except (OSError, ValueError):
            LOG.debug("no dnsmasq pid in %s: records written, nobody to tell", self.pid_file)
            return
        try:
            os.kill(pid, signal.SIGHUP)
            self.reloads += 1
            LOG.debug("dnsmasq (pid %d) told to re-read %s", pid, self.hosts_file)
        except OSError as exc:
            LOG.warning("signalling dnsmasq (pid %d): %s", pid, exc)
