"""The etcd store: objects as JSON under /registry, written with optimistic concurrency.

A thin shell over kubeform.api.etcd's gateway client (the one the agent and the
reconciler use: stdlib only, so a command does not pay for importing an HTTP stack, and
the gateway prefix, /v3 or etcd 3.3's /v3beta, is found without asking /version first)
so every decision stays in pure code. Reads of a kind are one prefix range request; the object's ``resourceVersion`` is
its etcd mod_revision, filled in on read (never stored). Every write that depends on a
read is one transaction comparing mod_revision (or "does not exist yet"), so a stale
writer is refused instead of silently overwriting.
"""

from __future__ import annotations

import base64
import builtins
import json
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from kubeform.api.etcd import EtcdClient, EtcdError, EtcdUnreachable
from kubeform.api.kinds import Kind
from kubeform.bootstrap.clusterdir import ClusterDir
from kubeform.errors import UserError, cut

Obj = dict[str, Any]

# etcd's default --max-txn-ops is 128; stay below it.
MAX_TXN_OPS = 120
# etcd's default --max-request-bytes is 1.5 MiB; a transaction (keys, values and the
# protocol's own bytes) must stay below it, so one object may take at most 1 MiB,
# the limit Kubernetes sets for a ConfigMap's or Secret's data.
MAX_TXN_BYTES = 1536 * 1024 - 64 * 1024
MAX_OBJECT_BYTES = 1024 * 1024


class ConflictError(UserError):
    """Someone else changed the object between our read and our write."""


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _prefix_end(prefix: str) -> str:
    """The range_end that covers every key starting with ``prefix``."""
    b = prefix.encode()
    return base64.b64encode(b[:-1] + bytes([b[-1] + 1])).decode()


@dataclass
class Op:
    """One step of a write transaction, built by pure code and executed by the store."""

    key: str
    value: str | None  # None = delete
    # expected mod_revision: 0 = must not exist, None = no check
    expect: int | None = None


@dataclass
class TxnResult:
    succeeded: bool
    revision: int
    responses: list[Any] = field(default_factory=list)


def decode_kvs(kvs: Iterable[dict[str, Any]]) -> list[Obj]:
    """Objects from a range response, with resourceVersion = mod_revision."""
    out: list[Obj] = []
    loads = json.loads
    b64decode = base64.b64decode
    for kv in kvs:
        obj = loads(b64decode(kv["value"]))
        obj.setdefault("metadata", {})["resourceVersion"] = str(kv["mod_revision"])
        out.append(obj)
    return out


FALLBACK_KEY = "ssh_tunnel_fallback"


def _reachable(urls: Sequence[str], timeout: float = 2.0) -> bool:
    """Whether any endpoint accepts a TCP connection from this machine."""
    for url in urls:
        parts = urlsplit(url)
        try:
            socket.create_connection(
                (parts.hostname or "127.0.0.1", parts.port or 2379), timeout
            ).close()
            return True
        except OSError:
            continue
    return False


def tunnel_spec(cd: ClusterDir, reachable: Callable[[Sequence[str]], bool] = _reachable) -> Any:
    """The SSH tunnel to use: cluster.yml's ``ssh_tunnel``; else, only when no endpoint
    answers directly, the master ``kubeform up`` recorded as ``ssh_tunnel_fallback``."""
    if cd.ssh_tunnel:
        return cd.ssh_tunnel
    fallback = cd.extra.get(FALLBACK_KEY)
    if fallback and not reachable(cd.endpoints):
        return fallback
    return None


class Store:
    """Objects in etcd; one instance per command (it holds kept-alive HTTPS connections).

    One client per endpoint (each may have its own tunnel, whose loopback end is checked
    against the endpoint's real name); the first that answers serves, a dead one moves
    to the back."""

    def __init__(self, clients: Sequence[EtcdClient]) -> None:
        if not clients:
            raise UserError("no etcd endpoints configured")
        self._clients = list(clients)

    @classmethod
    def from_cluster(cls, cd: ClusterDir, *, timeout: float = 30) -> Store:
        """Clients for every endpoint of the cluster, TLS with the admin certificate."""
        clients = []
        spec = tunnel_spec(cd)
        for url in cd.endpoints:
            parts = urlsplit(url)
            host, port = parts.hostname or "127.0.0.1", parts.port or 2379
            scheme = parts.scheme or "https"
            tls_name = None
            if spec:
                from kubeform.store.tunnel import Tunnel

                tunnel = Tunnel(spec, host, port)
                # TLS is checked against the real endpoint, not the loopback end.
                tls_name = host
                host, port = "127.0.0.1", tunnel.port
            clients.append(
                EtcdClient(
                    [f"{scheme}://{host}:{port}"],
                    ca=str(cd.ca_cert),
                    cert=str(cd.admin_cert),
                    key=str(cd.admin_key),
                    timeout=timeout,
                    tls_name=tls_name,
                )
            )
        return cls(clients)

    # -- transport -----------------------------------------------------------------
    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        """POST to the first endpoint that answers; move a dead one to the back."""
        last: Exception | None = None
        for _ in range(len(self._clients)):
            client = self._clients[0]
            try:
                return client.call("/v3/" + path, payload)
            except EtcdUnreachable as err:
                last = err
                self._clients.append(self._clients.pop(0))
            except EtcdError as err:
                raise UserError(f"etcd refused the request: {cut(str(err), 300)}") from None
        urls = ", ".join(e for c in self._clients for e in c.endpoints)
        reason = str(last) or type(last).__name__
        raise UserError(
            f"cannot reach etcd at {urls}: {reason}",
            hint="is the cluster up? If etcd is only reachable from the masters, set "
            "ssh_tunnel: <master> in cluster.yml",
        )

    # -- reads ---------------------------------------------------------------------
    def range_prefix(
        self, prefix: str, *, keys_only: bool = False
    ) -> builtins.list[dict[str, Any]]:
        """Raw key-values under a prefix, one round trip."""
        payload: dict[str, Any] = {"key": _b64(prefix), "range_end": _prefix_end(prefix)}
        if keys_only:
            payload["keys_only"] = True
        result = self._post("kv/range", payload)
        kvs: builtins.list[dict[str, Any]] = result.get("kvs", [])
        return kvs

    def keys(self, prefix: str) -> builtins.list[str]:
        """Keys under a prefix (for allocation: which IPs/ports are taken)."""
        return [
            base64.b64decode(kv["key"]).decode() for kv in self.range_prefix(prefix, keys_only=True)
        ]

    def get_raw(self, key: str) -> tuple[Obj | None, int]:
        """(object, mod_revision) of one key; (None, 0) when absent."""
        result = self._post("kv/range", {"key": _b64(key)})
        kvs = result.get("kvs", [])
        if not kvs:
            return None, 0
        obj = decode_kvs(kvs)[0]
        return obj, int(kvs[0]["mod_revision"])

    def get(self, kind: Kind, namespace: str | None, name: str) -> Obj | None:
        """One object or None."""
        return self.get_raw(kind.key(namespace, name))[0]

    def get_many(self, keys: Sequence[str]) -> dict[str, Obj]:
        """Several keys in one round trip per ~120 keys (a read-only transaction)."""
        out: dict[str, Obj] = {}
        for start in range(0, len(keys), MAX_TXN_OPS):
            chunk = keys[start : start + MAX_TXN_OPS]
            txn = {"success": [{"request_range": {"key": _b64(k)}} for k in chunk]}
            result = self._post("kv/txn", txn)
            for resp in result.get("responses", []):
                kvs = resp.get("response_range", {}).get("kvs", [])
                for kv, obj in zip(kvs, decode_kvs(kvs), strict=True):
                    out[base64.b64decode(kv["key"]).decode()] = obj
        return out

    def list(self, kind: Kind, namespace: str | None = None) -> list[Obj]:
        """All objects of a kind (in a namespace, or everywhere), one range request."""
        return decode_kvs(self.range_prefix(kind.prefix(namespace)))

    def items(self, prefix: str) -> builtins.list[tuple[str, Obj]]:
        """(key, object) pairs under a prefix: for objects named by their key (leases)."""
        kvs = self.range_prefix(prefix)
        return [
            (base64.b64decode(kv["key"]).decode(), o)
            for kv, o in zip(kvs, decode_kvs(kvs), strict=True)
        ]

    def revision(self) -> int:
        """etcd's current revision (where a watch of what happens next starts)."""
        result = self._post("kv/range", {"key": _b64("/"), "keys_only": True, "limit": 1})
        return int(result.get("header", {}).get("revision", 0))

    def watch(
        self, prefix: str, start_revision: int, timeout: float
    ) -> Iterator[tuple[str, str, Obj | None, int]]:
        """(PUT|DELETE, key, object or None, mod_revision) of changes under a prefix from
        start_revision on, as they happen; socket.timeout after ``timeout`` s of silence,
        EtcdError (or OSError) when the stream breaks."""
        for kind, kv in self._clients[0].watch(prefix, prefix=True, start_revision=start_revision, timeout=timeout):
            obj: Obj | None = None
            if kind == "PUT":
                obj = json.loads(kv.value)
                obj.setdefault("metadata", {})["resourceVersion"] = str(kv.mod_revision)
            yield kind, kv.key, obj, kv.mod_revision

    # -- writes --------------------------------------------------------------------
    def txn(self, ops: Sequence[Op]) -> TxnResult:
        """All ops atomically, or none if any expectation fails."""
        compare: list[dict[str, Any]] = []
        success: list[dict[str, Any]] = []
        for op in ops:
            key = _b64(op.key)
            if op.expect == 0:
                compare.append(
                    {"key": key, "target": "CREATE", "result": "EQUAL", "create_revision": "0"}
                )
            elif op.expect is not None:
                compare.append(
                    {"key": key, "target": "MOD", "result": "EQUAL", "mod_revision": str(op.expect)}
                )
            if op.value is None:
                success.append({"request_delete_range": {"key": key}})
            else:
                success.append({"request_put": {"key": key, "value": _b64(op.value)}})
        result = self._post("kv/txn", {"compare": compare, "success": success, "failure": []})
        return TxnResult(
            bool(result.get("succeeded", False)),
            int(result.get("header", {}).get("revision", 0)),
            list(result.get("responses", [])),
        )

    def write(self, ops: Sequence[Op]) -> TxnResult:
        """A transaction that must succeed; a failed compare is a conflict error."""
        res = self.txn(ops)
        if not res.succeeded:
            names = ", ".join(op.key for op in ops[:3]) + (" ..." if len(ops) > 3 else "")
            raise ConflictError(
                f"conflict: {names} changed since it was read",
                hint="someone else wrote it; re-run the command",
            )
        return res


def encode(obj: Obj) -> str:
    """The stored JSON: compact, without resourceVersion (that is etcd's mod_revision)."""
    meta = obj.get("metadata") or {}
    if "resourceVersion" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "resourceVersion"}}
    return json.dumps(obj, separators=(",", ":"), sort_keys=False)
