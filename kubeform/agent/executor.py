"""The imperative edge of the overlay: run `ip`/`bridge`/`iptables`, read their output.

Why separate: the decisions (overlay.plan) are pure; this is the only place that touches
the host. An optional network namespace prefixes every command with `ip netns exec NS`, so
tests can drive several "hosts" from one process while etcd stays on the root loopback.
"""

import json
import logging
import os
import subprocess
import tempfile
from typing import Dict, List, Optional, Tuple

from .overlay import STATE_COMMANDS, render

LOG = logging.getLogger("kubeform.agent.executor")


class CommandError(Exception):
    """A command the agent ran failed (its stderr is in the message)."""


class Executor(object):
    """Runs commands on this host, or inside one network namespace of it."""

    def __init__(self, netns=None):
        # type: (Optional[str]) -> None
        self.netns = netns
        self.prefix = ["ip", "netns", "exec", netns] if netns else []  # type: List[str]

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
        """The raw outputs overlay.parse_current reads (a missing tool yields empty output)."""
        raw = {}  # type: Dict[str, str]
        for name, argv in STATE_COMMANDS.items():
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
        """(interface, first IPv4 address, MTU) of interface, or of the default route's."""
        if not interface:
            routes = json.loads(self.run(["ip", "-j", "route", "show", "default"]) or "[]")
            if not routes:
                raise CommandError("no default route: set public_ip or interface in the agent config")
            interface = str(routes[0]["dev"])
        links = json.loads(self.run(["ip", "-j", "addr", "show", "dev", interface]) or "[]")
        if not links:
            raise CommandError("interface %s not found" % interface)
        addrs = [a["local"] for a in links[0].get("addr_info", []) if a.get("family") == "inet"]
        if not addrs:
            raise CommandError("interface %s has no IPv4 address" % interface)
        return interface, str(addrs[0]), int(links[0].get("mtu", 1500))

    def interface_for(self, ip):
        # type: (str) -> Tuple[str, int]
        """(interface, MTU) of the device holding ip."""
        for link in json.loads(self.run(["ip", "-j", "addr", "show"]) or "[]"):
            for a in link.get("addr_info", []):
                if a.get("local") == ip:
                    return str(link["ifname"]), int(link.get("mtu", 1500))
        raise CommandError("no interface holds %s" % ip)


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
