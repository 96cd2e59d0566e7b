"""The agent's side of the node DNS: write the records file atomically, make dnsmasq re-read it.

Why SIGHUP and not a restart: dnsmasq re-reads its --addn-hosts files on SIGHUP and keeps
answering meanwhile; a restart would drop queries. The file is written by rename (dnsmasq
never reads half of it) with mode 0644 in a 0755 directory, so dnsmasq can still read it
after it drops root. dnsmasq itself runs under kubeform-dns.service, which `kubeform up`
installs (playbooks/site.yml); its pid file tells the agent whom to signal.

The CNAMEs of ExternalName Services are the exception: dnsmasq reads cname= lines only
when it starts, so when their file (in dnsmasq's conf-dir) changes the agent restarts the
unit (``systemctl try-restart``: immediate, queries during the restart are retried by
the clients' resolvers). That happens only when an ExternalName Service comes, goes or
changes target, never on an endpoint change.
"""

import logging
import os
import signal
import subprocess
from typing import Any, Dict, List, Sequence

from ..executor import read_file_or_empty as _read, write_file_atomic
from . import records

LOG = logging.getLogger("kubeform.agent.dns")

RESTART = ("systemctl", "try-restart", "kubeform-dns.service")


class DnsRecords(object):
    def __init__(self, hosts_file: str, pid_file: str, domain: str, cname_file: str = "",
                 restart: Sequence[str] = RESTART) -> None:
        self.hosts_file = hosts_file
        self.pid_file = pid_file
        self.domain = domain
        self.cname_file = cname_file
        self.restart_argv = list(restart)
        self.reloads = 0
        self.restarts = 0
        self.restart_pending = False

    def update(self, entries: List[Dict[str, Any]]) -> bool:
        """Write the records; signal dnsmasq when they changed (restart it when the CNAMEs
        did). True when anything changed."""
        changed = self._write(self.hosts_file, records.hosts_text(entries, self.domain))
        cnames_changed = False
        if self.cname_file:
            text = records.cname_text(entries, self.domain)
            # a missing file is no CNAME to dnsmasq: writing the empty set (a fresh boot)
            # needs no restart
            cnames_changed = _lines(_read(self.cname_file)) != _lines(text)
            if self._write(self.cname_file, text) and cnames_changed:
                self.restart_pending = True
        if self.restart_pending:
            self.restart()  # reads the hosts file too; retried on the next update if it fails
        elif changed:
            self.reload()
        return changed or cnames_changed

    def _write(self, path: str, text: str) -> bool:
        try:
            return write_file_atomic(path, text, 0o644)
        except OSError as exc:
            LOG.error("writing %s: %s", path, exc)
            return False

    def restart(self) -> None:
        try:
            proc = subprocess.run(self.restart_argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  universal_newlines=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            LOG.warning("restarting dnsmasq for new CNAMEs (%s): %s", " ".join(self.restart_argv), exc)
            return
        if proc.returncode != 0:
            LOG.warning("restarting dnsmasq for new CNAMEs (%s): exit %d: %s", " ".join(self.restart_argv),
                        proc.returncode, proc.stdout.strip())
            return
        self.restarts += 1
        self.restart_pending = False
        LOG.info("dnsmasq restarted to read %s", self.cname_file)

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


def _lines(text: str) -> List[str]:
    """The cname= lines of a CNAME file (comments aside)."""
    return [line for line in text.splitlines() if line and not line.startswith("#")]
