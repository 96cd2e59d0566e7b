"""One connection per host for a whole run, opened on first use, shared by all tasks.

Why a pool: the engine applies tasks to many hosts in parallel and each task runs
several commands; reconnecting per task would dominate the run time. The pool also owns
the run-wide connection settings (known_hosts, --trust-new-hosts, timeouts, retries) and
the reconnect-after-reboot loop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from kubeform.inventory.model import Host
from kubeform.transport.base import HostKeyRejected, Unreachable
from kubeform.transport.errors import AuthenticationFailed
from kubeform.transport.local import LocalConnection
from kubeform.transport.ssh import RetryPolicy, SSHConnection

AnyConnection = SSHConnection | LocalConnection


def _key(host: Host) -> tuple[str, str]:
    return host.name, host.user


class ConnectionPool:
    """Thread-safe cache of open connections keyed by inventory host name and login user
    (a play's ``remote_user`` logs in to a host anew, beside an earlier play's session)."""

    def __init__(
        self,
        known_hosts: str | None = None,
        trust_new_hosts: bool = False,
        connect_timeout: float = 10,
        retries: int = 3,
        retry_delay: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.known_hosts = known_hosts
        self.trust_new_hosts = trust_new_hosts
        self.connect_timeout = connect_timeout
        self.retry = RetryPolicy(tries=max(retries, 1), delay=retry_delay)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._connections: dict[tuple[str, str], AnyConnection] = {}

    def _make(self, host: Host, retry: RetryPolicy | None = None) -> AnyConnection:
        if host.connection == "local":
            return LocalConnection(host)
        if host.connection not in ("ssh", "paramiko", "smart"):
            raise Unreachable(f"{host.name}: unsupported ansible_connection {host.connection!r}")
        return SSHConnection(
            host,
            known_hosts=self.known_hosts,
            trust_new_hosts=self.trust_new_hosts,
            connect_timeout=self.connect_timeout,
            retry=retry or self.retry,
            sleep=self._sleep,
        )

    def get(self, host: Host) -> AnyConnection:
        """The host's open connection; opens it on first use (Unreachable if it cannot).

        Only the dictionary is under the pool lock; connecting happens under the
        connection's own lock, so slow or unreachable hosts do not hold up the others.
        """
        with self._lock:
            conn = self._connections.get(_key(host))
            if conn is None:
                conn = self._make(host)
                self._connections[_key(host)] = conn
        conn.connect()
        return conn

    def drop(self, host: Host) -> None:
        """Close and forget the host's connection (the next get() opens a new one)."""
        with self._lock:
            conn = self._connections.pop(_key(host), None)
        if conn is not None:
            conn.close()

    def reconnect(self, host: Host, timeout: float) -> AnyConnection:
        """Drop the connection and retry until the host answers again (after a reboot).

        Tries one connection attempt at a time with doubling pauses (capped at 5 s)
        until ``timeout`` has passed. A host-key or authentication failure ends the
        wait at once: a host that comes back with another key must not be trusted.
        """
        self.drop(host)
        deadline = time.monotonic() + timeout
        delay = self.retry.delay
        last = "not attempted"
        while True:
            conn = self._make(host, RetryPolicy(tries=1))
            try:
                conn.connect()
            except (HostKeyRejected, AuthenticationFailed):
                raise
            except Unreachable as exc:
                last = str(exc)
            else:
                with self._lock:
                    old = self._connections.pop(_key(host), None)
                    self._connections[_key(host)] = conn
                if old is not None and old is not conn:
                    old.close()
                return conn
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Unreachable(f"{host.name}: did not come back within {timeout:g} s ({last})")
            self._sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)

    def close_all(self) -> None:
        """Close every connection (end of run, also on failure)."""
        with self._lock:
            conns = list(self._connections.values())
            self._connections.clear()
        for conn in conns:
            conn.close()

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_all()
