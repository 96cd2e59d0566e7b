"""SSH transport on paramiko: one persistent connection per host, many channels on it.

Why this shape: the engine runs dozens of small commands per host, so the cost that
matters is per command on an open connection (one channel open + exec, a few ms), not
connection setup. Every task shares the host's single SSHClient; channels on one
Transport run in parallel, bounded below the server's MaxSessions (OpenSSH: 10).
Connection setup is guarded by a lock, retried with exponential backoff for network
failures, and never retried for authentication or host-key failures (retrying cannot
fix those and hammering sshd with bad credentials gets the operator locked out).

Fabric is not used: its Connection adds invoke's runner threads and a pty-oriented
I/O loop per command; paramiko's channel API is all this needs.
"""

from __future__ import annotations

import errno
import logging
import os
import posixpath
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paramiko

from kubeform.inventory.model import Host
from kubeform.keyfiles import private_key_problem
from kubeform.transport.base import CommandResult, TransportError, Unreachable
from kubeform.transport.errors import AuthenticationFailed, CommandTimeout
from kubeform.transport.hostkeys import (
    VerifyingPolicy,
    default_known_hosts,
    host_key_name,
    load_known_hosts,
    preferred_key_types,
)
from kubeform.transport.shell_base import ShellConnection, decoded_result

log = logging.getLogger(__name__)
# paramiko logs a failed handshake (a port that accepts and closes) with a traceback
# from its transport thread; with no handler configured, Python prints it on stderr.
# The failure itself reaches the user as one "unreachable" line; the traceback must not.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

_READ_SIZE = 65536
# Stdin larger than this is sent from a helper thread so a command that writes a lot
# of output before reading all its input cannot deadlock against our window.
_INLINE_STDIN = 32768
# Pauses before re-asking for a channel the server refused on a live connection.
_REOPEN_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass(frozen=True)
class RetryPolicy:
    """How connection attempts are repeated: ``tries`` in all, ``delay`` doubling."""

    tries: int = 3
    delay: float = 0.5
    factor: float = 2.0

    def delays(self) -> list[float]:
        """The pauses between attempts (one fewer than tries)."""
        return [self.delay * self.factor**i for i in range(max(self.tries - 1, 0))]


class _Fatal(Exception):
    """A connection failure that retrying cannot fix (wraps the Unreachable to raise)."""

    def __init__(self, error: Unreachable) -> None:
        super().__init__(str(error))
        self.error = error


def describe_socket_error(exc: BaseException) -> str:
    """A short human reason for a network failure (the recap shows it)."""
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        codes = {getattr(e, "errno", None) for e in exc.errors.values()}
        if codes == {errno.ECONNREFUSED}:
            return "connection refused"
        if codes == {errno.EHOSTUNREACH}:
            return "no route to host"
        return "cannot connect"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve host name ({exc.strerror})"
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno).lower()
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class SSHConnection(ShellConnection):
    """A reusable, thread-safe session to one host over SSH."""

    kill_on_host = True

    def __init__(
        self,
        host: Host,
        *,
        known_hosts: str | None = None,
        trust_new_hosts: bool = False,
        connect_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        keepalive: int = 15,
        max_sessions: int = 8,  # + 1 SFTP channel stays below OpenSSH's MaxSessions 10
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(host, host.user)
        self.known_hosts = os.path.expanduser(
            host.known_hosts_file or known_hosts or default_known_hosts()
        )
        self.trust_new_hosts = trust_new_hosts
        self.connect_timeout = connect_timeout
        self.retry = retry or RetryPolicy()
        self.keepalive = keepalive
        self._sleep = sleep
        self._lock = threading.Lock()
        self._client: paramiko.SSHClient | None = None
        self._sessions = threading.BoundedSemaphore(max_sessions)
        self._sftp: paramiko.SFTPClient | None = None
        self._sftp_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SSHConnection({self.target})"

    @property
    def target(self) -> str:
        """``user@address:port`` for messages."""
        return f"{self.host.user}@{self.host.address}:{self.host.port}"

    # -- connection setup ------------------------------------------------------------

    def connect(self) -> None:
        """Open the connection unless it is open; raises Unreachable/HostKeyRejected."""
        self._ensure_transport()

    def _ensure_transport(self) -> paramiko.Transport:
        client = self._client
        transport = client.get_transport() if client is not None else None
        if transport is not None and transport.is_active():
            return transport
        with self._lock:
            client = self._client
            transport = client.get_transport() if client is not None else None
            if transport is not None and transport.is_active():
                return transport
            if client is not None:
                log.info("%s: connection lost, reconnecting", self.name)
                self._discard_locked()
            self._client = self._connect_with_retries()
            transport = self._client.get_transport()
            assert transport is not None
            return transport

    def _connect_with_retries(self) -> paramiko.SSHClient:
        delays = self.retry.delays()
        reason = "not attempted"
        for attempt in range(len(delays) + 1):
            try:
                return self._connect_once()
            except _Fatal as fatal:
                raise fatal.error from None
            except (OSError, EOFError, paramiko.SSHException) as exc:
                reason = describe_socket_error(exc)
                log.debug("%s: connect attempt %d failed: %s", self.name, attempt + 1, reason)
            if attempt < len(delays):
                self._sleep(delays[attempt])
        tries = len(delays) + 1
        raise Unreachable(
            f"{self.target}: {reason} (after {tries} attempt{'s' if tries > 1 else ''})"
        )

    def _connect_once(self) -> paramiko.SSHClient:
        host = self.host
        key_file = os.path.expanduser(host.key_file) if host.key_file else None
        if key_file and not os.path.exists(key_file):
            raise _Fatal(
                AuthenticationFailed(f"{self.target}: private key file {key_file} not found")
            )
        if key_file:
            problem = private_key_problem(key_file)
            if problem is not None:
                raise _Fatal(AuthenticationFailed(f"{self.target}: {problem}"))
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(VerifyingPolicy(self.known_hosts, self.trust_new_hosts))
        known = load_known_hosts(self.known_hosts)
        name = host_key_name(host.address, host.port)

        def transport_factory(sock: Any, /, **kwargs: Any) -> paramiko.Transport:
            # Many small request/reply exchanges: without TCP_NODELAY, Nagle plus the
            # peer's delayed ACK add ~40 ms to every channel open.
            if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transport = paramiko.Transport(
                sock, disabled_algorithms=kwargs.get("disabled_algorithms")
            )
            options = transport.get_security_options()
            options.key_types = preferred_key_types(known, name, list(options.key_types))
            return transport

        try:
            client.connect(
                hostname=host.address,
                port=host.port,
                username=host.user,
                password=host.password,
                key_filename=key_file,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                allow_agent=True,
                look_for_keys=key_file is None and host.password is None,
                transport_factory=transport_factory,
            )
        except Unreachable as exc:  # HostKeyRejected from the policy
            client.close()
            raise _Fatal(exc) from None
        except paramiko.PasswordRequiredException:
            client.close()
            raise _Fatal(
                AuthenticationFailed(
                    f"{self.target}: private key {key_file} is encrypted; use ssh-agent"
                )
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise _Fatal(
                AuthenticationFailed(f"{self.target}: authentication failed ({str(exc).strip()})")
            ) from None
        except BaseException:
            client.close()
            raise
        transport = client.get_transport()
        assert transport is not None
        transport.set_keepalive(self.keepalive)
        return client

    # -- commands ----------------------------------------------------------------------

    def _probe_timeout(self) -> float:
        """The probe is one round trip like a connect: bounded by the same timeout."""
        return self.connect_timeout

    def _exec(
        self, command: str, stdin: bytes | None, timeout: float | None, shown: str | None = None
    ) -> CommandResult:
        transport = self._ensure_transport()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._sessions:
            channel = self._open_channel(transport)
            try:
                return self._exec_on(channel, command, stdin, deadline, shown or command)
            except (OSError, EOFError, paramiko.SSHException) as exc:
                if not transport.is_active():
                    raise Unreachable(f"{self.target}: connection lost") from None
                raise TransportError(f"{self.name}: {describe_socket_error(exc)}") from None
            finally:
                channel.close()

    def _open_channel(self, transport: paramiko.Transport) -> paramiko.Channel:
        """A new session channel; a refusal on a live connection is retried briefly.

        Closing a channel frees our slot at once but the server's only when it has
        processed the close, so under many parallel commands sshd can still count a
        just-closed session against MaxSessions for a moment.
        """
        for pause in (*_REOPEN_PAUSES, None):
            try:
                return transport.open_session(timeout=self.connect_timeout)
            except paramiko.ChannelException as exc:
                if pause is None or not transport.is_active():
                    reason = describe_socket_error(exc)
                    break
            except (OSError, EOFError, paramiko.SSHException) as exc:
                reason = describe_socket_error(exc)
                break
            self._sleep(pause)
        if transport.is_active():  # e.g. the server's MaxSessions is below ours
            raise TransportError(f"{self.name}: cannot open a channel: {reason}") from None
        raise Unreachable(f"{self.target}: {reason}") from None

    def _exec_on(
        self,
        channel: paramiko.Channel,
        command: str,
        stdin: bytes | None,
        deadline: float | None,
        shown: str,
    ) -> CommandResult:
        # Create the wake-up pipe before anything can arrive: select() must see the EOF.
        channel.fileno()
        channel.exec_command(command)
        feeder: threading.Thread | None = None
        if stdin and len(stdin) > _INLINE_STDIN:
            feeder = threading.Thread(target=_feed, args=(channel, stdin), daemon=True)
            feeder.start()
        else:
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
        out, err = _drain(channel, deadline, shown)
        remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        if not channel.status_event.wait(remaining):
            raise CommandTimeout(f"{self.name}: timed out waiting for exit status of: {shown}")
        if feeder is not None:
            feeder.join(timeout=1)
        return decoded_result(channel.recv_exit_status(), bytes(out), bytes(err))

    # -- files -------------------------------------------------------------------------

    def _put_direct(self, content: bytes, path: str, mode: int | None) -> None:
        """Over SFTP: a 0600 temp file beside ``path``, chmod, posix-rename."""
        directory, base = posixpath.split(path)
        tmp = posixpath.join(directory, f".{base}.kf-{uuid.uuid4().hex[:12]}.tmp")
        with self._sftp_lock:
            sftp = self._sftp_client()
            try:
                final_mode = mode
                if final_mode is None:
                    try:
                        final_mode = (sftp.stat(path).st_mode or 0o644) & 0o7777
                    except FileNotFoundError:
                        final_mode = 0o644
                with sftp.open(tmp, "wb") as fh:
                    fh.chmod(0o600)  # nothing readable while partially written
                    fh.set_pipelined(True)
                    fh.write(content)
                sftp.chmod(tmp, final_mode)
                sftp.posix_rename(tmp, path)
            except OSError as exc:
                try:
                    sftp.remove(tmp)
                except OSError:
                    pass
                reason = exc.strerror or str(exc) or type(exc).__name__
                raise self.write_error(path, reason) from None
            except (EOFError, paramiko.SSHException) as exc:
                self._sftp = None
                raise Unreachable(f"{self.target}: {describe_socket_error(exc)}") from None

    def _sftp_client(self) -> paramiko.SFTPClient:
        transport = self._ensure_transport()
        sftp = self._sftp
        if sftp is not None and sftp.get_channel() is not None:
            channel = sftp.get_channel()
            if channel is not None and not channel.closed and channel.get_transport() is transport:
                return sftp
        sftp = paramiko.SFTPClient.from_transport(transport)
        if sftp is None:
            raise Unreachable(f"{self.target}: cannot open an SFTP session")
        self._sftp = sftp
        return sftp

    # -- teardown ----------------------------------------------------------------------

    def close(self) -> None:
        """Close the SFTP session and the connection; a later call reconnects."""
        with self._lock:
            self._discard_locked()

    def _discard_locked(self) -> None:
        sftp, self._sftp = self._sftp, None
        client, self._client = self._client, None
        self._sudo_password_needed.clear()
        if sftp is not None:
            try:
                sftp.close()
            except Exception:  # closing a dead session must not mask the real error
                pass
        if client is not None:
            client.close()


def _feed(channel: paramiko.Channel, data: bytes) -> None:
    """Send stdin then EOF (runs in a helper thread for large inputs)."""
    try:
        channel.sendall(data)
        channel.shutdown_write()
    except (OSError, EOFError, paramiko.SSHException):
        pass  # the command exited early or the channel closed; its rc tells the story


def _drain(
    channel: paramiko.Channel, deadline: float | None, shown: str
) -> tuple[bytearray, bytearray]:
    """Read stdout and stderr together until EOF.

    Both streams share one flow-control window, so reading one to the end before the
    other can deadlock; select() on the channel wakes for either.
    """
    out = bytearray()
    err = bytearray()
    while True:
        while channel.recv_ready():
            out += channel.recv(_READ_SIZE)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(_READ_SIZE)
        if channel.eof_received or channel.closed:
            while channel.recv_ready():
                out += channel.recv(_READ_SIZE)
            while channel.recv_stderr_ready():
                err += channel.recv_stderr(_READ_SIZE)
            return out, err
        wait = None
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                raise CommandTimeout(f"timed out: {shown}")
        select.select([channel], [], [], wait)
