"""The imperative edge of the overlay: run `ip`/`bridge`/`iptables`, read their output.

Why separate: the decisions (overlay.plan) are pure; this is the only place that touches
the host. An optional network namespace prefixes every command with `ip netns exec NS`, so
tests can drive several "hosts" from one process while etcd stays on the root loopback.
"""

import logging
import os
import subprocess
import tempfile
from typing import Dict, List, Optional, Tuple

from .hoststate import STATE_COMMANDS, STATE_COMMANDS_TEXT
from .overlay import render

LOG = logging.getLogger("kubeform.agent.executor")


class CommandError(Exception):
    """A command the agent ran failed (its stderr is in the message)."""


class Executor(object):
    """Runs commands on this host, or inside one network namespace of it."""

    def __init__(self, netns=None):
        # type: (Optional[str]) -> None
        self.netns = netns
        self.prefix = ["ip", "netns", "exec", netns] if netns else []  # type: List[str]
        self._json = None  # type: Optional[bool]

    def supports_json(self):
        # type: () -> bool
        """Whether this iproute2 has -j (4.13+; CentOS 7's 4.11 does not): asked once."""
        if self._json is None:
            try:
                self._json = self.run(["ip", "-j", "link", "show", "lo"]).lstrip().startswith("[")
            except (CommandError, OSError):
                self._json = False
            if not self._json:
                LOG.info("iproute2 without JSON output: reading the text forms")
        return self._json

    def run(self, argv, check=True):
        # type: (List[str], bool) -> str
        """Run argv (with the namespace prefix); stdout, or CommandError when check fails."""
        proc = subprocess.Popen(
            self.prefix + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True
        )
        out, err = proc.communicate()
        if check and proc.returncode != 0:
            raise CommandError("%s: exit %d: %s" % (render([argv])[0], proc.returncode, err.strip()))
        return out

    def read_state(self):
        # type: () -> Dict[str, str]
        """The raw outputs hoststate.parse_state reads (a missing tool yields empty output)."""
        raw = {}  # type: Dict[str, str]
        commands = STATE_COMMANDS if self.supports_json() else STATE_COMMANDS_TEXT
        for name, argv in commands.items():
            try:
                raw[name] = self.run(argv)
            except (CommandError, OSError) as exc:
                LOG.warning("reading %s failed: %s", name, exc)
                raw[name] = ""
        return raw

    def apply(self, cmds):
        # type: (List[List[str]]) -> List[str]
        """Run every command, logging each; keep going on failure (the next loop retries)."""
        errors = []  # type: List[str]
        for argv in cmds:
            line = render([argv])[0]
            LOG.info("overlay%s: %s", " [%s]" % self.netns if self.netns else "", line)
            try:
                self.run(argv)
            except (CommandError, OSError) as exc:
                LOG.error("%s", exc)
                errors.append(str(exc))
        return errors

    def interface_facts(self, interface=None):
        # type: (Optional[str]) -> Tuple[str, str, int]
        """(interface, first IPv4 address, MTU) of interface, or of the default route's.

        Text output on purpose: the same parsing works on iproute2 with and without -j.
        """
        if not interface:
            for line in self.run(["ip", "-4", "route", "show", "default"]).splitlines():
                words = line.split()
                if "dev" in words:
                    interface = words[words.index("dev") + 1]
                    break
            if not interface:
                raise CommandError("no default route: set public_ip or interface in the agent config")
        addrs = [ip for name, ip in self._addresses() if name == interface]
        if not addrs:
            raise CommandError("interface %s has no IPv4 address" % interface)
        return interface, addrs[0], self._mtu(interface)

    def interface_for(self, ip):
        # type: (str) -> Tuple[str, int]
        """(interface, MTU) of the device holding ip."""
        for name, addr in self._addresses():
            if addr == ip:
                return name, self._mtu(name)
        raise CommandError("no interface holds %s" % ip)

    def _addresses(self):
        # type: () -> List[Tuple[str, str]]
        result = []  # type: List[Tuple[str, str]]
        for line in self.run(["ip", "-o", "-4", "addr", "show"]).splitlines():
            words = line.split()
            if len(words) > 3 and words[2] == "inet":
                result.append((words[1].split("@", 1)[0], words[3].split("/", 1)[0]))
        return result

    def _mtu(self, interface):
        # type: (str) -> int
        words = self.run(["ip", "-o", "link", "show", "dev", interface]).split()
        return int(words[words.index("mtu") + 1]) if "mtu" in words else 1500


def read_file_or_empty(path):
    # type: (str) -> str
    """The file's text, "" when it cannot be read (absent, a race with its removal)."""
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def write_file_atomic(path, text, mode=0o644):
    # type: (str, str, int) -> bool
    """Write text to path via a rename (readers never see half a file); False if unchanged."""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True
