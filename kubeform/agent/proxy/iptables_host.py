"""The imperative edge of iptables mode: iptables-save, iptables-restore --noflush, jump rules.

Why separate: every decision (the rules, the diff, the missing jumps) is a pure function
of text; this is the only place that runs iptables. An optional network namespace
prefixes every command (`ip netns exec NS`), for tests and the bench.
"""

import logging
import re
import subprocess
from typing import Dict, List, Optional, Tuple

from . import iptables_sync

LOG = logging.getLogger("kubeform.agent.proxy")


class IptablesError(Exception):
    """iptables-restore or iptables refused (its stderr is in the message)."""


class IptablesHost(object):
    def __init__(self, netns: Optional[str] = None, binary: str = "iptables") -> None:
        """binary: "iptables" (the host's choice, as every other rule on it) or, for the
        bench, "iptables-legacy" / "iptables-nft"."""
        self.prefix = ["ip", "netns", "exec", netns] if netns else []  # type: List[str]
        self.binary = binary
        self._version = None  # type: Optional[Tuple[int, int, int]]

    def _run(self, argv: List[str], stdin: Optional[str] = None) -> str:
        proc = subprocess.Popen(
            self.prefix + argv,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            universal_newlines=True,
        )
        out, err = proc.communicate(stdin)
        if proc.returncode != 0:
            raise IptablesError("%s: exit %d: %s" % (" ".join(argv[:3]), proc.returncode, err.strip()[:2000]))
        return out

    def version(self) -> Tuple[int, int, int]:
        """iptables' version, asked once (CentOS 7 has 1.4.21: no -w on restore, no --random-fully)."""
        if self._version is None:
            self._version = parse_version(self._run([self.binary, "--version"]))
        return self._version

    def modern(self) -> bool:
        return self.version() >= (1, 6, 2)

    def save(self, table: str) -> str:
        return self._run([self.binary + "-save", "-t", table])

    def save_all(self) -> Dict[str, str]:
        return dict((t, self.save(t)) for t in iptables_sync.TABLES)

    def restore(self, text: str) -> None:
        """One atomic iptables-restore of text, never flushing what text does not name."""
        if not text:
            return
        argv = [self.binary + "-restore", "--noflush"]
        if self.modern():
            argv += ["-w", "5"]
        self._run(argv, stdin=text)

    def iptables(self, args: List[str]) -> None:
        self._run([self.binary] + (["-w", "5"] if self.modern() else ["-w"]) + args)

    def ensure_jumps(self, saved: Dict[str, str], jumps: Optional[List[iptables_sync.Jump]] = None) -> int:
        """Insert the jump rules saved lacks (after a restore created their chains)."""
        missing = iptables_sync.missing_jumps(saved, jumps)
        for args in missing:
            LOG.info("iptables %s", " ".join(args))
            self.iptables(args)
        return len(missing)

    def run(self, argv: List[str], stdin: Optional[str] = None) -> str:
        """Any other command (ip, ipset, ipvsadm) in the same namespace."""
        return self._run(argv, stdin)

    def cleanup(self) -> int:
        """Remove every jump into a KUBE- chain and every KUBE- chain (filter, nat, mangle)."""
        saved = {}  # type: Dict[str, str]
        for table in ("filter", "nat", "mangle"):
            try:
                saved[table] = self.save(table)
            except IptablesError:
                continue
        deletes = iptables_sync.cleanup_text(saved)
        for args in deletes:
            self.iptables(args)
        text = iptables_sync.cleanup_restore(saved)
        self.restore(text)
        return len(deletes) + iptables_sync.changed_chains(text)


def parse_version(text: str) -> Tuple[int, int, int]:
    """(1, 8, 9) from "iptables v1.8.9 (nf_tables)"; (0, 0, 0) when unreadable."""
    m = re.search(r"v(\d+)\.(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
