"""A minimal etcd v3 client over the JSON gateway, stdlib only.

Why hand-written: the agent runs on CentOS 7's python3 (3.6) with nothing but the stdlib,
so it cannot use grpc or etcd3gw. etcd (3.4+) serves the v3 API as JSON at /v3/...; keys
and values travel base64-encoded and int64 fields come back as strings. etcd 3.3 (CentOS
7's extras) serves the same API at /v3beta/..., with lease revoke and time-to-live under
kv/lease/: the client finds out once per endpoint (a /v3 path that is not served answers
404 with a plain-text body; then /v3beta is tried and remembered). The client talks
HTTPS with a client certificate (the cluster's etcd trusts only its own CA), and tries each
endpoint in turn so one etcd member down does not stop the agent.
"""

import base64
import http.client
import io
import json
import logging
import socket
import ssl
import threading
from typing import Any, Dict, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

LOG = logging.getLogger("kubeform.api.etcd")

#: Gateway prefixes, newest first: etcd 3.4+ serves /v3, etcd 3.3 /v3beta (and /v3alpha).
API_PREFIXES = ("/v3", "/v3beta")
#: Paths that etcd 3.3 keeps under kv/ (3.4 moved them; /v3beta has only the old ones).
_V3BETA_MOVED = {"/lease/revoke": "/kv/lease/revoke", "/lease/timetolive": "/kv/lease/timetolive"}


def gateway_path(prefix, path):
    # type: (str, str) -> str
    """The path of a /v3/... call under the gateway prefix an endpoint serves."""
    if not path.startswith("/v3/"):
        return path
    rest = path[len("/v3"):]
    if prefix != "/v3":
        rest = _V3BETA_MOVED.get(rest, rest)
    return prefix + rest


def path_not_served(status, body):
    # type: (int, bytes) -> bool
    """A 404 from the HTTP router (plain text), not a gRPC NotFound (a JSON error)."""
    if status != 404:
        return False
    try:
        answer = json.loads(body.decode("utf-8"))
    except ValueError:
        return True
    return not isinstance(answer, dict)


class _Answer(object):
    """A response already read (the probe for the prefix reads a 404's body)."""

    def __init__(self, status, body):
        # type: (int, bytes) -> None
        self.status = status
        self._body = io.BytesIO(body)

    def read(self):
        # type: () -> bytes
        return self._body.read()

    def readline(self):
        # type: () -> bytes
        return self._body.readline()


#: Kept-alive connections per endpoint (one per thread that calls at the same time).
MAX_IDLE = 8


class EtcdError(Exception):
    """etcd could not be reached or refused the request (after trying every endpoint)."""


class EtcdUnreachable(EtcdError):
    """No endpoint answered (connection refused, reset, timed out, or HTTP 5xx)."""


class WatchCompacted(EtcdError):
    """A watch asked for revisions etcd has compacted away: list again, then watch on."""

    def __init__(self, compact_revision):
        # type: (int) -> None
        EtcdError.__init__(self, "watch: revision compacted (oldest kept %d)" % compact_revision)
        self.compact_revision = compact_revision


def _b64(text: str) -> str:
    """Encode a key/value the way the gateway wants it (UTF-8, then base64)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _unb64(text: str) -> str:
    """Decode a key/value the gateway returned."""
    return base64.b64decode(text).decode("utf-8")


def prefix_end(prefix: str) -> bytes:
    """The range_end that selects every key starting with prefix (etcd's convention)."""
    raw = bytearray(prefix.encode("utf-8"))
    while raw:
        if raw[-1] < 0xFF:
            raw[-1] += 1
            return bytes(raw)
        raw.pop()
    return b"\0"


def _b64_end(prefix: str) -> str:
    """prefix_end, base64-encoded for the gateway."""
    return base64.b64encode(prefix_end(prefix)).decode("ascii")


class KV(object):
    """One key-value as etcd returned it, decoded: the revisions make compare-and-swap easy."""

    __slots__ = ("key", "value", "create_revision", "mod_revision", "version", "lease")

    def __init__(self, raw):
        # type: (Dict[str, Any]) -> None
        self.key = _unb64(raw["key"])  # type: str
        self.value = _unb64(raw.get("value", ""))  # type: str
        self.create_revision = int(raw.get("create_revision", 0))  # type: int
        self.mod_revision = int(raw.get("mod_revision", 0))  # type: int
        self.version = int(raw.get("version", 0))  # type: int
        self.lease = int(raw.get("lease", 0))  # type: int

    def __repr__(self):
        # type: () -> str
        return "KV(%r, mod_revision=%d, lease=%d)" % (self.key, self.mod_revision, self.lease)


class Compare(object):
    """One condition of a transaction (the If of etcd's If/Then/Else)."""

    def __init__(self, key, target, value, result="EQUAL"):
        # type: (str, str, Any, str) -> None
        self.key = key
        self.target = target  # CREATE | MOD | VERSION | VALUE | LEASE
        self.value = value
        self.result = result  # EQUAL | GREATER | LESS | NOT_EQUAL

    def to_json(self):
        # type: () -> Dict[str, Any]
        """The gateway's compare message."""
        field = {
            "CREATE": "create_revision",
            "MOD": "mod_revision",
            "VERSION": "version",
            "VALUE": "value",
            "LEASE": "lease",
        }[self.target]
        value = _b64(self.value) if self.target == "VALUE" else str(int(self.value))
        return {"key": _b64(self.key), "target": self.target, "result": self.result, field: value}


def key_absent(key):
    # type: (str) -> Compare
    """The condition 'key does not exist' (create-only writes)."""
    return Compare(key, "CREATE", 0)


def key_unchanged(key, mod_revision):
    # type: (str, int) -> Compare
    """The condition 'key is still at the revision I read' (read-modify-write)."""
    return Compare(key, "MOD", mod_revision)


def op_put(key, value, lease=0):
    # type: (str, str, int) -> Dict[str, Any]
    """A put inside a transaction."""
    req = {"key": _b64(key), "value": _b64(value)}  # type: Dict[str, Any]
    if lease:
        req["lease"] = str(lease)
    return {"request_put": req}


def op_get(key, prefix=False):
    # type: (str, bool) -> Dict[str, Any]
    """A range read inside a transaction."""
    req = {"key": _b64(key)}
    if prefix:
        req["range_end"] = _b64_end(key)
    return {"request_range": req}


def op_delete(key):
    # type: (str) -> Dict[str, Any]
    """A delete inside a transaction."""
    return {"request_delete_range": {"key": _b64(key)}}


def make_ssl_context(ca, cert, key):
    # type: (Optional[str], Optional[str], Optional[str]) -> ssl.SSLContext
    """TLS that verifies etcd against the cluster CA and presents our client certificate."""
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to host:port whose certificate is checked against another name: the far end
    of an SSH tunnel (the operator reaches etcd at 127.0.0.1:<tunnel port>)."""

    def __init__(self, host, port, tls_name, timeout, context):
        # type: (str, int, str, Optional[float], ssl.SSLContext) -> None
        http.client.HTTPSConnection.__init__(self, host, port, timeout=timeout, context=context)
        self.tls_name = tls_name
        self.tls_context = context

    def connect(self):
        # type: () -> None
        sock = socket.create_connection((self.host, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.tls_name)


class EtcdClient(object):
    """Talks to one of several etcd endpoints; moves on to the next when one fails."""

    def __init__(self, endpoints, ca=None, cert=None, key=None, timeout=10.0, tls_name=None):
        # type: (List[str], Optional[str], Optional[str], Optional[str], float, Optional[str]) -> None
        """tls_name: the name etcd's certificate must carry when it is not the endpoints'
        host (a tunnel's loopback end)."""
        if not endpoints:
            raise ValueError("no etcd endpoints")
        self.endpoints = list(endpoints)
        self.timeout = timeout
        self.tls_name = tls_name
        self._ssl = None  # type: Optional[ssl.SSLContext]
        if any(e.startswith("https://") for e in self.endpoints):
            self._ssl = make_ssl_context(ca, cert, key)
        self._current = 0
        self._prefixes = {}  # type: Dict[str, str]
        # Unary calls reuse kept-alive connections: a TLS handshake per call cost the
        # agent and the reconciler most of their CPU when many pods start at once.
        self._idle = {}  # type: Dict[str, List[http.client.HTTPConnection]]
        self._pool_lock = threading.Lock()

    # -- transport ---------------------------------------------------------------------

    def _idle_connection(self, endpoint):
        # type: (str) -> Optional[http.client.HTTPConnection]
        with self._pool_lock:
            idle = self._idle.get(endpoint)
            return idle.pop() if idle else None

    def _release(self, endpoint, conn, resp):
        # type: (str, http.client.HTTPConnection, Any) -> None
        """Keep a connection whose response was read whole, unless the server closes it."""
        if not isinstance(resp, http.client.HTTPResponse) or resp.will_close:
            conn.close()
            return
        with self._pool_lock:
            idle = self._idle.setdefault(endpoint, [])
            if len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        conn.close()

    def close(self):
        # type: () -> None
        """Close every kept-alive connection (a new call opens one again)."""
        with self._pool_lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def _connect(self, endpoint, timeout):
        # type: (str, Optional[float]) -> http.client.HTTPConnection
        parts = urlsplit(endpoint)
        host = parts.hostname or "127.0.0.1"
        if parts.scheme == "https" and self.tls_name and self._ssl is not None:
            return PinnedHTTPSConnection(host, parts.port or 2379, self.tls_name, timeout, self._ssl)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(
                host, parts.port or 2379, timeout=timeout, context=self._ssl
            )
        return http.client.HTTPConnection(host, parts.port or 2379, timeout=timeout)

    def _ordered_endpoints(self):
        # type: () -> List[Tuple[int, str]]
        n = len(self.endpoints)
        return [((self._current + i) % n, self.endpoints[(self._current + i) % n]) for i in range(n)]

    def _open(self, path, body, timeout, pooled=False):
        # type: (str, Dict[str, Any], Optional[float], bool) -> Tuple[str, http.client.HTTPConnection, http.client.HTTPResponse]
        """POST body to path on the first endpoint that answers; remember which one did."""
        data = json.dumps(body).encode("utf-8")
        errors = []  # type: List[str]
        for index, endpoint in self._ordered_endpoints():
            try:
                conn, resp = self._post(endpoint, path, data, timeout, pooled)
            except (OSError, http.client.HTTPException) as exc:
                errors.append("%s: %s" % (endpoint, exc))
                LOG.debug("etcd endpoint %s failed: %s", endpoint, exc)
                continue
            if resp.status >= 500:
                text = resp.read().decode("utf-8", "replace")
                conn.close()
                errors.append("%s: HTTP %d %s" % (endpoint, resp.status, text.strip()[:200]))
                continue
            self._current = index
            return endpoint, conn, resp
        raise EtcdUnreachable("etcd unreachable: " + "; ".join(errors))

    def _post(self, endpoint, path, data, timeout, pooled=False):
        # type: (str, str, bytes, Optional[float], bool) -> Tuple[http.client.HTTPConnection, Any]
        """POST to one endpoint under its gateway prefix, finding the prefix on first use."""
        known = self._prefixes.get(endpoint)
        if pooled and known:
            conn = self._idle_connection(endpoint)
            if conn is not None:
                try:
                    conn.request("POST", gateway_path(known, path), body=data, headers={"Content-Type": "application/json"})
                    return conn, conn.getresponse()
                except (OSError, http.client.HTTPException):
                    conn.close()  # the server closed the idle connection: open a new one
        return self._post_new(endpoint, path, data, timeout)

    def _post_new(self, endpoint, path, data, timeout):
        # type: (str, str, bytes, Optional[float]) -> Tuple[http.client.HTTPConnection, Any]
        known = self._prefixes.get(endpoint)
        candidates = (known,) if known else API_PREFIXES
        for prefix in candidates:
            conn = self._connect(endpoint, timeout)
            try:
                conn.request(
                    "POST",
                    gateway_path(prefix, path),
                    body=data,
                    headers={"Content-Type": "application/json"},
                )
                resp = conn.getresponse()  # type: Any
                if known or resp.status != 404:
                    if not known and resp.status < 500:
                        self._prefixes[endpoint] = prefix
                    return conn, resp
                body = resp.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                raise
            if not path_not_served(resp.status, body):
                self._prefixes[endpoint] = prefix
                return conn, _Answer(resp.status, body)
            conn.close()
            LOG.info("etcd %s does not serve %s/; trying the next gateway prefix", endpoint, prefix)
        return conn, _Answer(404, body)

    def call(self, path, body):
        # type: (str, Dict[str, Any]) -> Dict[str, Any]
        """One unary gateway call: the decoded JSON answer, or EtcdError."""
        endpoint, conn, resp = self._open(path, body, self.timeout, pooled=True)
        try:
            text = resp.read().decode("utf-8")
        except BaseException:
            conn.close()
            raise
        self._release(endpoint, conn, resp)
        if resp.status != 200:
            raise EtcdError("etcd %s: HTTP %d %s" % (path, resp.status, text.strip()[:300]))
        answer = json.loads(text) if text.strip() else {}
        if "result" in answer and isinstance(answer["result"], dict):
            answer = answer["result"]  # streaming endpoints (keepalive) wrap one message
        if "error" in answer and answer.get("code"):
            raise EtcdError("etcd %s: %s" % (path, answer.get("error")))
        return answer

    # -- kv ----------------------------------------------------------------------------

    def get(self, key):
        # type: (str) -> Optional[KV]
        """The key, or None if it does not exist."""
        kvs, _ = self.range(key)
        return kvs[0] if kvs else None

    def range(self, key, prefix=False):
        # type: (str, bool) -> Tuple[List[KV], int]
        """Every key equal to (or starting with) key, and the store revision it was read at."""
        body = {"key": _b64(key)}
        if prefix:
            body["range_end"] = _b64_end(key)
        answer = self.call("/v3/kv/range", body)
        revision = int(answer.get("header", {}).get("revision", 0))
        return [KV(raw) for raw in answer.get("kvs", [])], revision

    def put(self, key, value, lease=0):
        # type: (str, str, int) -> int
        """Write key (optionally bound to a lease); returns the new store revision."""
        body = {"key": _b64(key), "value": _b64(value)}  # type: Dict[str, Any]
        if lease:
            body["lease"] = str(lease)
        answer = self.call("/v3/kv/put", body)
        return int(answer.get("header", {}).get("revision", 0))

    def delete(self, key, prefix=False):
        # type: (str, bool) -> int
        """Delete key (or every key under prefix); returns how many were deleted."""
        body = {"key": _b64(key)}
        if prefix:
            body["range_end"] = _b64_end(key)
        answer = self.call("/v3/kv/deleterange", body)
        return int(answer.get("deleted", 0))

    def txn(self, compare, success, failure=None):
        # type: (List[Compare], List[Dict[str, Any]], Optional[List[Dict[str, Any]]]) -> Tuple[bool, List[Dict[str, Any]]]
        """An atomic If/Then/Else: (succeeded, the responses of the branch that ran)."""
        body = {
            "compare": [c.to_json() for c in compare],
            "success": success,
            "failure": failure or [],
        }
        answer = self.call("/v3/kv/txn", body)
        return bool(answer.get("succeeded", False)), list(answer.get("responses", []))

    @staticmethod
    def txn_kvs(response):
        # type: (Dict[str, Any]) -> List[KV]
        """The KVs of a response_range inside a transaction answer."""
        return [KV(raw) for raw in response.get("response_range", {}).get("kvs", [])]

    # -- leases ------------------------------------------------------------------------

    def lease_grant(self, ttl):
        # type: (int) -> int
        """A new lease of ttl seconds; returns its ID."""
        answer = self.call("/v3/lease/grant", {"TTL": str(int(ttl)), "ID": "0"})
        if answer.get("error"):
            raise EtcdError("lease grant: %s" % answer["error"])
        return int(answer["ID"])

    def lease_keepalive(self, lease_id):
        # type: (int) -> int
        """Refresh the lease; returns its new TTL, 0 if it has already expired."""
        answer = self.call("/v3/lease/keepalive", {"ID": str(lease_id)})
        return int(answer.get("TTL", 0))

    def lease_ttl(self, lease_id):
        # type: (int) -> int
        """Seconds left on the lease, -1 if it does not exist (any more)."""
        answer = self.call("/v3/lease/timetolive", {"ID": str(lease_id)})
        return int(answer.get("TTL", -1))

    def lease_revoke(self, lease_id):
        # type: (int) -> None
        """End the lease now: every key attached to it is deleted at once."""
        try:
            self.call("/v3/lease/revoke", {"ID": str(lease_id)})
        except EtcdError as exc:
            if "not found" not in str(exc):
                raise

    # -- watch -------------------------------------------------------------------------

    def watch(self, key, prefix=False, start_revision=0, timeout=None):
        # type: (str, bool, int, Optional[float]) -> Iterator[Tuple[str, KV]]
        """Yield (PUT|DELETE, kv) as they happen; ends when the stream breaks.

        The gateway keeps the response open and writes one JSON message per line. A
        timeout (seconds of silence) makes the read raise socket.timeout, which the
        caller treats as "nothing happened": the agent's loop is level-triggered, the
        watch only wakes it early.
        """
        create = {"key": _b64(key)}  # type: Dict[str, Any]
        if prefix:
            create["range_end"] = _b64_end(key)
        if start_revision:
            create["start_revision"] = str(start_revision)
        _, conn, resp = self._open("/v3/watch", {"create_request": create}, timeout)
        try:
            if resp.status != 200:
                raise EtcdError("watch: HTTP %d" % resp.status)
            while True:
                line = resp.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    continue
                message = json.loads(line.decode("utf-8"))
                result = message.get("result", {})
                if "error" in message:
                    raise EtcdError("watch: %s" % message["error"])
                if int(result.get("compact_revision", 0) or 0):
                    raise WatchCompacted(int(result["compact_revision"]))
                if result.get("canceled"):
                    raise EtcdError("watch canceled: %s" % result.get("cancel_reason", ""))
                for event in result.get("events", []):
                    yield event.get("type", "PUT"), KV(event["kv"])
        finally:
            conn.close()

    def wait_for_change(self, key, prefix, timeout):
        # type: (str, bool, float) -> bool
        """Block until something under key changes or timeout passes; True if it changed."""
        try:
            for _ in self.watch(key, prefix=prefix, timeout=timeout):
                return True
        except (socket.timeout, OSError, EtcdError, ValueError):
            return False
        return False
