"""The imperative edge of iptables mode: iptables-save, iptables-restore --noflush, jump rules.

Why separate: every decision (the rules, the diff, the missing jumps) is a pure function
of text; this is the only place that runs iptables. An optional network namespace
prefixes every command (`ip netns exec NS`), for tests and the bench.
"""

import ipaddress
import itertools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from typing import IO, Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from . import iptables_sync

LOG = logging.getLogger("kubeform.agent.proxy")


# the routing protocol number marking the service-network route (so `down` finds it)
ROUTE_PROTO = "77"


class IptablesError(Exception):
    """iptables-restore or iptables refused (its stderr is in the message)."""


class IptablesHost(object):
    def __init__(self, netns: Optional[str] = None, binary: str = "auto") -> None:
        """binary: "auto" (the flavour the host's rules are in, see choose_binary),
        "iptables", or "iptables-legacy" / "iptables-nft" (the bench compares them)."""
        self.prefix = ["ip", "netns", "exec", netns] if netns else []  # type: List[str]
        self._binary = binary
        self._version = None  # type: Optional[Tuple[int, int, int]]
        self._version_text = ""

    @property
    def binary(self) -> str:
        """The iptables command this host's rules are written with, decided once."""
        if self._binary == "auto":
            self._binary = choose_binary(self._rule_count("iptables-legacy"), self._rule_count("iptables-nft"))
            LOG.info("service rules with %s", self._binary)
        return self._binary

    def _rule_count(self, binary: str) -> Optional[int]:
        """How many rules `<binary>-save` shows; None when that flavour is not installed."""
        if not any(os.access(os.path.join(d, binary + "-save"), os.X_OK) for d in os.environ.get("PATH", "/usr/sbin:/sbin").split(":")):
            return None
        try:
            return sum(1 for line in self._run([binary + "-save"]).splitlines() if line.startswith("-"))
        except (IptablesError, OSError):
            return None

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
            self._version_text = self._run([self.binary, "--version"])
            self._version = parse_version(self._version_text)
        return self._version

    def nft(self) -> bool:
        """Whether the rules go through nf_tables (iptables-nft: "v1.8.9 (nf_tables)")."""
        self.version()
        return "nf_tables" in self._version_text

    def modern(self) -> bool:
        return self.version() >= (1, 6, 2)

    def save(self, table: str) -> str:
        return self._run([self.binary + "-save", "-t", table])

    def save_all(self) -> Dict[str, str]:
        return dict((t, self.save(t)) for t in iptables_sync.TABLES)

    def restore(self, text: Union[str, Iterable[str]]) -> None:
        """One iptables-restore of text (a string, or its pieces in order), never flushing
        what text does not name; each ``*table ... COMMIT`` block is atomic.

        Pieces are written to its stdin as they come (iptables_sync.restore_chunks), so it
        parses while the rest is still being joined. iptables-restore is only started at
        the first non-empty piece (nothing to write: no process). A piece that fails to come
        (an exception) kills it before it reads the COMMIT of the table it is in: that table
        is left as it was."""
        pieces = iter([text] if isinstance(text, str) else text)
        first = next((p for p in pieces if p), "")
        if not first:
            return
        argv = [self.binary + "-restore", "--noflush"]
        if self.modern():
            argv += ["-w", "5"]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(self.prefix + argv, stdin=subprocess.PIPE, stdout=err, stderr=err)
            try:
                _write_all(proc.stdin, itertools.chain([first], pieces))
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            proc.wait()
            if proc.returncode != 0:
                err.seek(0)
                message = err.read(4000).decode("utf-8", "replace").strip()
                raise IptablesError("%s: exit %d: %s" % (" ".join(argv[:2]), proc.returncode, message[:2000]))

    def call_in_background(self, fn: Callable[..., Any], *args: Any) -> "Background":
        """fn(*args) in a thread (the full sync renders meanwhile: its iptables-save of both
        tables runs on the other CPU, mostly in the kernel and in iptables-save)."""
        return Background(lambda: fn(*args))

    def iptables(self, args: List[str]) -> None:
        self._run([self.binary] + (["-w", "5"] if self.modern() else ["-w"]) + args)

    def ensure_jumps(self, saved: Dict[str, str], jumps: Optional[List[iptables_sync.Jump]] = None) -> int:
        """Insert the jump rules saved lacks (after a restore created their chains)."""
        missing = iptables_sync.missing_jumps(saved, jumps)
        for args in missing:
            LOG.info("iptables %s", " ".join(args))
            self.iptables(args)
        return len(missing)

    def ensure_service_route(self, service_cidr: str, node_ip: str) -> bool:
        """Route the ClusterIP range on the node's interface when nothing routes it (a host
        without a default route, as lab machines are): the kernel looks a route up before
        the nat table DNATs (for a host's own connections) and before the filter table
        REJECTs (a Service without endpoints); with no route both fail with "network is
        unreachable". kubeadm refuses such hosts; kubeform routes the range instead.
        True when it added the route."""
        probe = service_probe_address(service_cidr)
        if not probe or not node_ip:
            return False
        try:
            self._run(["ip", "route", "get", probe])
            return False  # routed (default route or a route of its own)
        except IptablesError:
            pass
        dev = device_of(self._run(["ip", "-o", "-4", "addr", "show"]), node_ip)
        if not dev:
            return False
        LOG.info("no route to the service network %s: adding it on %s", service_cidr, dev)
        self._run(["ip", "route", "replace", service_cidr, "dev", dev, "src", node_ip, "proto", ROUTE_PROTO])
        return True

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
        routes = self._run(["ip", "route", "show", "proto", ROUTE_PROTO]).strip()
        if routes:
            self._run(["ip", "route", "flush", "proto", ROUTE_PROTO])
        return len(deletes) + iptables_sync.changed_chains(text) + len(routes.splitlines())


def choose_binary(legacy_rules: Optional[int], nft_rules: Optional[int]) -> str:
    """Follow the host, as kube-proxy's iptables-wrapper does: where both flavours exist,
    the one already holding more rules (the host's firewall, docker, the overlay) is the
    one the host uses, and the service rules go next to them (rules split over both
    flavours work but nobody finds them); a tie (a fresh host) means the system's
    `iptables` alternative. With one flavour only (CentOS 7), `iptables`."""
    if legacy_rules is None or nft_rules is None or legacy_rules == nft_rules:
        return "iptables"
    return "iptables-legacy" if legacy_rules > nft_rules else "iptables-nft"


def service_probe_address(cidr: str) -> str:
    """The first host address of cidr ("10.96.0.1" of "10.96.0.0/12"); "" when unreadable."""
    try:
        return str(next(ipaddress.ip_network(cidr, strict=False).hosts()))
    except (ValueError, StopIteration):
        return ""


def device_of(addr_show: str, ip: str) -> str:
    """The interface holding ip, from `ip -o -4 addr show` ("2: eth0    inet 192.168.56.11/24 ...")."""
    for line in addr_show.splitlines():
        words = line.split()
        if len(words) > 3 and words[2] == "inet" and words[3].split("/")[0] == ip:
            return words[1].split("@")[0]
    return ""


def installed_binaries() -> List[str]:
    """Every iptables flavour on this host (`down` cleans each)."""
    found = [b for b in ("iptables-legacy", "iptables-nft") if shutil.which(b + "-save")]
    return found if len(found) == 2 else ["iptables"]


def parse_version(text: str) -> Tuple[int, int, int]:
    """(1, 8, 9) from "iptables v1.8.9 (nf_tables)"; (0, 0, 0) when unreadable."""
    m = re.search(r"v(\d+)\.(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)


def _write_all(stdin: Optional[IO[bytes]], pieces: Iterable[str]) -> None:
    """Write every piece to a process's stdin and close it; a process that exits early (it
    refused a line) closes the pipe: the rest is dropped, its exit status tells why."""
    assert stdin is not None
    try:
        for piece in pieces:
            if piece:
                stdin.write(piece.encode("utf-8"))
    except BrokenPipeError:
        pass
    finally:
        try:
            stdin.close()
        except BrokenPipeError:
            pass


class Background(object):
    """A function running in a thread of its own; result() waits for it and returns its
    value or raises its exception (stdlib 3.6: no concurrent.futures pool for one call)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self._value = None  # type: Any
        self._error = None  # type: Optional[BaseException]
        self._thread = threading.Thread(target=self._run, args=(fn,), name="iptables-background")
        self._thread.daemon = True
        self._thread.start()

    def _run(self, fn: Callable[[], Any]) -> None:
        try:
            self._value = fn()
        except BaseException as exc:  # handed to result()
            self._error = exc

    def result(self) -> Any:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value
