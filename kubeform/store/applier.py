"""The imperative shell of apply/diff/delete: read live state, plan (pure), write batched.

Nothing is written before every document has validated; then objects are read in a few
round trips, planned, and written in transactions of up to ~120 operations, each guarded
by mod_revision compares (created objects: "does not exist"), with the ClusterIP/NodePort
reservations in the same transaction as their Service. A lost race is retried from a
fresh read (level-triggered), a stale resourceVersion in the manifest is a conflict.
"""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from kubeform import yamlsrc
from kubeform.api import deletion, kinds
from kubeform.errors import UserError
from kubeform.store import allocation, plan, validation
from kubeform.store.client import (
    MAX_OBJECT_BYTES,
    MAX_TXN_BYTES,
    MAX_TXN_OPS,
    ConflictError,
    Op,
    Store,
    encode,
)
from kubeform.store.manifests import Doc

Obj = dict[str, Any]
RETRIES = 3

NAMESPACE = kinds.BY_KIND["Namespace"]
# Namespaces that exist even on a store where `kubeform up` never ran ensure_builtins:
# Kubernetes always has `default`, and it is where a manifest without a namespace goes.
ALWAYS_EXISTING = frozenset({"default"})


@dataclass
class Planned:
    """One document's plan: what is live, what would be stored, and the outcome."""

    doc: Doc
    kind: kinds.Kind
    key: str
    live: Obj | None
    stored: Obj
    outcome: str
    extra_ops: list[Op]

    @property
    def ref(self) -> str:
        """``deployment.apps/web``: how kubectl names an object in its output."""
        return f"{self.kind.qualified}/{self.stored['metadata']['name']}"

    def ops(self) -> list[Op]:
        rv = int((self.live or {}).get("metadata", {}).get("resourceVersion", 0) or 0)
        return [Op(self.key, encode(self.stored), rv), *self.extra_ops]

    def size(self) -> int:
        """Bytes this plan's writes take in a transaction (keys and values)."""
        return sum(len(op.key.encode()) + len((op.value or "").encode()) for op in self.ops())


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def namespace_mismatch(meta: Any, kind: kinds.Kind, cli_namespace: str | None) -> str | None:
    """Why a manifest's namespace conflicts with ``-n`` (as kubectl refuses it), else None.

    Silently using either one would put the object where the user did not look for it.
    """
    if not cli_namespace or not kind.namespaced or not isinstance(meta, dict):
        return None
    own = meta.get("namespace")
    if own and str(own) != cli_namespace:
        return (
            f"the manifest's namespace {own!r} does not match -n {cli_namespace!r} "
            f"(drop -n or pass -n {own})"
        )
    return None


def validate_docs(
    docs: Sequence[Doc], *, strict: bool = False, default_namespace: str | None = None
) -> tuple[list[tuple[Doc, kinds.Kind]], list[str]]:
    """Every document checked; all errors raised together (nothing stored), warnings returned."""
    errors: list[UserError] = []
    warnings: list[str] = []
    good: list[tuple[Doc, kinds.Kind]] = []
    seen: dict[tuple[str, str, str], Doc] = {}
    for doc in docs:
        kind, problems = validation.check(doc.data, strict=strict)
        for p in problems:
            err = p.as_user_error(doc.file, doc.index)
            if p.error:
                errors.append(err)
            else:
                warnings.append(f"warning: {err}")
        if kind is None or any(p.error for p in problems):
            continue
        meta = doc.data.get("metadata") or {}
        mismatch = namespace_mismatch(meta, kind, default_namespace)
        if mismatch:
            errors.append(
                UserError(
                    mismatch,
                    file=doc.file,
                    document=doc.index,
                    line=validation.line_at(doc.data, ["metadata", "namespace"]),
                    field="metadata.namespace",
                )
            )
            continue
        if default_namespace and kind.namespaced and not meta.get("namespace"):
            meta["namespace"] = default_namespace
        ns = str(meta.get("namespace") or "default") if kind.namespaced else ""
        ident = (kind.kind, ns, str(meta.get("name")))
        if ident in seen:
            first = seen[ident]
            errors.append(
                UserError(
                    f"duplicate {kind.kind} {ns + '/' if ns else ''}{ident[2]} "
                    f"(also in {first.where()})",
                    file=doc.file,
                    document=doc.index,
                    line=validation.line_at(doc.data, ["metadata", "name"]),
                    field="metadata.name",
                )
            )
            continue
        seen[ident] = doc
        good.append((doc, kind))
    if errors:
        raise MultiError(errors)
    return good, warnings


class MultiError(UserError):
    """Several document errors reported at once (the CLI prints one per line)."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(first.message, file=first.file, line=first.line, field=first.field, document=first.document)

    def __str__(self) -> str:
        lines = [UserError.__str__(e) for e in self.errors]
        if len(lines) > 1:
            lines.append(f"{len(lines)} errors; nothing was applied")
        else:
            lines[0] += " (nothing was applied)"
        return "\n".join(lines)


def _namespace_of(doc: Doc, kind: kinds.Kind) -> str | None:
    """The namespace an object goes into (``default`` when it names none), or None if cluster-scoped."""
    if not kind.namespaced:
        return None
    return str((doc.data.get("metadata") or {}).get("namespace") or "default")


def namespaces_needed(items: Sequence[tuple[Doc, kinds.Kind]]) -> set[str]:
    """Namespaces this apply writes into that neither always exist nor are created by it.

    Empty means the store need not be asked at all (the common all-``default`` apply).
    """
    created = {str((d.data.get("metadata") or {}).get("name")) for d, k in items if k.kind == NAMESPACE.kind}
    wanted = {ns for d, k in items if (ns := _namespace_of(d, k)) is not None}
    return wanted - created - ALWAYS_EXISTING


def missing_namespace_errors(
    items: Sequence[tuple[Doc, kinds.Kind]], existing: Collection[str]
) -> list[UserError]:
    """One error per document whose namespace does not exist (as the API server refuses it).

    A Namespace document anywhere in the same apply counts as existing: the apply writes
    Namespaces first, so document order does not matter.
    """
    missing = namespaces_needed(items) - set(existing)
    errors: list[UserError] = []
    for doc, kind in items:
        ns = _namespace_of(doc, kind)
        if ns is None or ns not in missing:
            continue
        errors.append(
            UserError(
                f'namespaces "{ns}" not found',
                file=doc.file,
                document=doc.index,
                line=_namespace_line(doc),
                field="metadata.namespace",
                hint=f"create it first with `kubeform create namespace {ns}`, "
                "or add a Namespace document to this apply",
            )
        )
    return errors


def _namespace_line(doc: Doc) -> int | None:
    """The line of ``metadata.namespace``; of ``metadata:`` when it came from ``-n``."""
    meta = doc.data.get("metadata")
    if isinstance(meta, yamlsrc.LineDict) and "namespace" not in meta.key_lines:
        return validation.line_at(doc.data, ["metadata"])
    return validation.line_at(doc.data, ["metadata", "namespace"])


def existing_namespaces(store: Store) -> set[str]:
    """Names of the stored Namespaces: one keys-only range read."""
    return {key.rsplit("/", 1)[1] for key in store.keys(NAMESPACE.prefix())}


def check_namespaces(store: Store, items: Sequence[tuple[Doc, kinds.Kind]]) -> None:
    """Refuse (nothing stored) when an object names a namespace that does not exist.

    Reads the store only when some object needs a namespace that is neither ``default``
    nor created by this apply, and then once for all objects.
    """
    if not namespaces_needed(items):
        return
    errors = missing_namespace_errors(items, existing_namespaces(store))
    if errors:
        raise MultiError(errors)


def terminating_errors(
    items: Sequence[tuple[Doc, kinds.Kind]], keys: Sequence[str], live: dict[str, Obj], terminating: Collection[str]
) -> list[UserError]:
    """One error per object this apply would create in a Terminating namespace (the
    apiserver's NamespaceLifecycle refusal); updates of objects still there are allowed."""
    errors: list[UserError] = []
    for (doc, kind), key in zip(items, keys, strict=True):
        ns = _namespace_of(doc, kind)
        if ns is None or ns not in terminating or key in live:
            continue
        name = (doc.data.get("metadata") or {}).get("name")
        errors.append(
            UserError(
                f'{kind.resource} "{name}" is forbidden: unable to create new content in namespace {ns} '
                "because it is being terminated",
                file=doc.file,
                document=doc.index,
                line=_namespace_line(doc),
                field="metadata.namespace",
                hint=f"wait until namespace {ns} is gone (`kubeform get ns {ns}`), then create it again",
            )
        )
    return errors


def check_terminating(
    store: Store, items: Sequence[tuple[Doc, kinds.Kind]], keys: Sequence[str], live: dict[str, Obj]
) -> None:
    """Refuse (nothing stored) creating objects in a namespace being deleted. Reads the
    store only when some object goes into a namespace other than ``default`` (which can
    never be deleted)."""
    wanted = {ns for d, k in items if (ns := _namespace_of(d, k)) is not None} - ALWAYS_EXISTING
    if not wanted:
        return
    found = store.get_many([NAMESPACE.key(None, ns) for ns in sorted(wanted)])
    terminating = {str((o.get("metadata") or {}).get("name")) for o in found.values() if deletion.is_deleting(o)}
    if terminating:
        errors = terminating_errors(items, keys, live, terminating)
        if errors:
            raise MultiError(errors)


def namespaces_first(items: Sequence[tuple[Doc, kinds.Kind]]) -> list[tuple[Doc, kinds.Kind]]:
    """The items with Namespaces moved to the front (stable otherwise).

    An apply larger than one transaction is written in several; creating the Namespaces
    first means no batch ever stores an object into a namespace that is not there yet.
    """
    return sorted(items, key=lambda item: item[1].kind != NAMESPACE.kind)


def _key(kind: kinds.Kind, data: Obj) -> str:
    meta = data.get("metadata") or {}
    return kind.key(meta.get("namespace") or "default", str(meta.get("name")))


def plan_all(
    store: Store,
    items: Sequence[tuple[Doc, kinds.Kind]],
    *,
    service_cidr: str = allocation.DEFAULT_SERVICE_CIDR,
    new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> list[Planned]:
    """Check the namespaces exist, read the live objects (batched) and plan every document."""
    check_namespaces(store, items)
    keys = [_key(k, d.data) for d, k in items]
    live = store.get_many(keys)
    check_terminating(store, items, keys, live)
    alloc = plan.Allocations(cidr=service_cidr)
    if any(k.kind == "Service" for _, k in items):
        alloc.ips = {k.rsplit("/", 1)[1] for k in store.keys(allocation.IP_KEY_PREFIX)}
        reserved = allocation.kubernetes_service_ip(service_cidr)
        if not any(d.data.get("spec", {}).get("clusterIP") == reserved for d, _ in items):
            alloc.ips.add(reserved)  # only the built-in `kubernetes` service may take .1
        alloc.ports = {int(k.rsplit("/", 1)[1]) for k in store.keys(allocation.PORT_KEY_PREFIX)}
    now = now_iso()
    out: list[Planned] = []
    for (doc, kind), key in zip(items, keys, strict=True):
        cur = live.get(key)
        before_ips, before_ports = len(alloc.new_ips), len(alloc.new_ports)
        try:
            stored, outcome = plan.plan_object(doc.data, cur, now=now, new_uid=new_uid, alloc=alloc)
        except UserError as err:
            line = validation.line_at(doc.data, (err.field or "").replace("[", ".").replace("]", "").split("."))
            raise err.located(file=doc.file, document=doc.index, line=line) from None
        extra: list[Op] = []
        owner = key
        extra += [Op(allocation.ip_key(ip), owner, 0) for ip in alloc.new_ips[before_ips:]]
        extra += [Op(allocation.port_key(p), owner, 0) for p in alloc.new_ports[before_ports:]]
        gone_ips, gone_ports = plan.released(cur, stored)
        extra += [Op(allocation.ip_key(ip), None) for ip in gone_ips]
        extra += [Op(allocation.port_key(p), None) for p in gone_ports]
        out.append(Planned(doc, kind, key, cur, stored, outcome, extra))
    return out


def check_sizes(planned: Sequence[Planned]) -> None:
    """Refuse, before anything is written, an object etcd would refuse for its size.

    Found only when its transaction was sent, the apply would already have stored the
    batches before it; so every object is measured first and the first too large one is
    named with its file and document.
    """
    for p in planned:
        if p.outcome == plan.UNCHANGED:
            continue
        size = len(encode(p.stored).encode())
        if size > MAX_OBJECT_BYTES:
            raise UserError(
                f"{p.ref} is too large to store: {size} bytes (at most {MAX_OBJECT_BYTES})",
                file=p.doc.file,
                document=p.doc.index,
                line=yamlsrc.line_of(p.doc.data),
                hint="nothing was applied; split the data over several objects",
            )


def _batches(planned: Sequence[Planned]) -> list[list[Planned]]:
    """Groups whose ops fit one transaction (etcd's --max-txn-ops and --max-request-bytes)."""
    batches: list[list[Planned]] = []
    cur: list[Planned] = []
    n = nbytes = 0
    for p in planned:
        size = 1 + len(p.extra_ops)
        weight = p.size() if p.outcome != plan.UNCHANGED else 0
        if cur and (n + size > MAX_TXN_OPS or nbytes + weight > MAX_TXN_BYTES):
            batches.append(cur)
            cur, n, nbytes = [], 0, 0
        cur.append(p)
        n += size
        nbytes += weight
    if cur:
        batches.append(cur)
    return batches


def apply_docs(
    store: Store,
    items: Sequence[tuple[Doc, kinds.Kind]],
    *,
    service_cidr: str = allocation.DEFAULT_SERVICE_CIDR,
    report: Callable[[Planned], None] | None = None,
) -> list[Planned]:
    """Apply validated documents; returns the plans with their outcomes."""
    done: list[Planned] = []
    pending = namespaces_first(items)
    for attempt in range(RETRIES):
        planned = plan_all(store, pending, service_cidr=service_cidr)
        check_sizes(planned)
        retry: list[tuple[Doc, kinds.Kind]] = []
        for batch in _batches(planned):
            changes = [p for p in batch if p.outcome != plan.UNCHANGED]
            if changes:
                res = store.txn([op for p in changes for op in p.ops()])
                if not res.succeeded:
                    retry.extend((p.doc, p.kind) for p in batch)
                    continue
                for p in changes:
                    p.stored["metadata"]["resourceVersion"] = str(res.revision)
            for p in batch:
                done.append(p)
                if report:
                    report(p)
        if not retry:
            return done
        pending = retry
        if attempt == RETRIES - 1:
            break
    names = ", ".join(f"{k.kind}/{(d.data.get('metadata') or {}).get('name')}" for d, k in pending[:5])
    raise ConflictError(
        f"conflict: {names} kept changing while being applied",
        hint="another writer is active; re-run the command",
    )


def owned_by(store: Store, namespace: str | None, uids: set[str]) -> list[tuple[kinds.Kind, Obj]]:
    """Objects whose ownerReferences point at any of ``uids`` (same namespace)."""
    out = []
    for kind in kinds.KINDS:
        if kind.read_only or (namespace and not kind.namespaced):
            continue
        for obj in store.list(kind, namespace if kind.namespaced else None):
            refs = (obj.get("metadata") or {}).get("ownerReferences") or []
            if any(r.get("uid") in uids for r in refs):
                out.append((kind, obj))
    return out


#: How often a deletion is decided again when the object changed under it.
DELETE_ATTEMPTS = 5


def delete_object(
    store: Store,
    kind: kinds.Kind,
    obj: Obj,
    *,
    propagation: str = deletion.BACKGROUND,
    grace: int | None = None,
    now: datetime.datetime | None = None,
) -> str:
    """Write the deletion of one object as the apiserver would; returns its ref.

    What it owns is the reconciler's garbage collector's business, as in Kubernetes:
    background (default) removes the object now and the collector then deletes its
    dependents; foreground and orphan mark it (``deletionTimestamp`` and the
    ``foregroundDeletion``/``orphan`` finalizer) and the collector deletes or releases the
    dependents before it goes. A Namespace is marked Terminating (the namespace controller
    empties it). Pods a node runs are marked for graceful deletion (their agent removes
    them); ``grace`` is the requested grace period (None: each pod's own, 0: at once).
    One transaction guarded by the object's resourceVersion; when someone else wrote the
    object in between (a node's agent reporting a pod's status, a controller), it is read
    again and the deletion decided anew, as the apiserver's own retry does: kubectl's
    delete carries no precondition, so a concurrent status write is no conflict to the user.
    """
    meta = obj.get("metadata") or {}
    key = kind.key(meta.get("namespace"), str(meta.get("name")))
    ref = f"{kind.qualified}/{meta.get('name')}"
    for attempt in range(DELETE_ATTEMPTS):
        rv = int((obj.get("metadata") or {}).get("resourceVersion") or 0) or None
        decision = deletion.delete_object(obj, now or datetime.datetime.now(datetime.UTC), propagation, grace)
        ops: list[Op] = []
        if decision.remove:
            ops.append(Op(key, None, rv))
            ips, ports = plan.released(obj, None)
            ops += [Op(allocation.ip_key(ip), None) for ip in ips]
            ops += [Op(allocation.port_key(p), None) for p in ports]
        elif decision.obj is not None:
            ops.append(Op(key, encode(decision.obj), rv))
        if not ops:
            return ref
        try:
            store.write(ops)
            return ref
        except ConflictError:
            fresh = store.get(kind, meta.get("namespace"), str(meta.get("name")))
            if fresh is None:
                return ref  # someone else removed it meanwhile: deleted all the same
            if attempt == DELETE_ATTEMPTS - 1:
                raise
            obj = fresh
    return ref


def update_object(store: Store, kind: kinds.Kind, obj: Obj, change: Callable[[Obj], Obj]) -> Obj:
    """Read-modify-write guarded by mod_revision (scale, label, annotate)."""
    rv = int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    new = change(copy.deepcopy(obj))  # the caller's copy keeps its (read) revision
    meta = new["metadata"]
    if new.get("spec") != obj.get("spec") and kind.kind in plan.WITH_GENERATION:
        meta["generation"] = int(meta.get("generation", 1)) + 1
    key = kind.key(meta.get("namespace"), str(meta.get("name")))
    res = store.write([Op(key, encode(new), rv)])
    meta["resourceVersion"] = str(res.revision)
    return new


def builtin_objects(service_cidr: str = allocation.DEFAULT_SERVICE_CIDR) -> list[Obj]:
    """What every cluster starts with: the default/kube-system/kube-public namespaces,
    the `kubernetes` Service on the first ClusterIP (.1), as in Kubernetes, the `kube-dns`
    Service on the tenth (.10) in kube-system, and the default StorageClass `local-path`
    (the reconciler's local-path provisioner, as k3s's)."""
    out: list[Obj] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease")
    ]
    out.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {
                "clusterIP": allocation.kubernetes_service_ip(service_cidr),
                "ports": [{"name": "https", "port": 443, "targetPort": 2379}],
            },
        }
    )
    # The cluster DNS: dnsmasq on every node (docs/services.md). internalTrafficPolicy
    # Local: each node's proxy sends 10.96.0.10:53 to its own dnsmasq (the endpoints are
    # the nodes' addresses), so DNS never crosses nodes and a dead node's DNS fails nobody else.
    out.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-dns"},
                # one endpoint per node, its own dnsmasq (reconciler/controllers/endpoints.py)
                "annotations": {"kubeform.io/endpoints-from": "nodes"},
            },
            "spec": {
                "clusterIP": allocation.cluster_dns_ip(service_cidr),
                "internalTrafficPolicy": "Local",
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                ],
            },
        }
    )
    out.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local-path", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubeform.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    return out


def ensure_builtins(store: Store, service_cidr: str = allocation.DEFAULT_SERVICE_CIDR) -> list[Planned]:
    """Create the built-in objects if missing (idempotent; for `kubeform up`)."""
    docs = [Doc("<builtin>", i + 1, o) for i, o in enumerate(builtin_objects(service_cidr))]
    items, _ = validate_docs(docs)
    missing = [(d, k) for d, k in items if store.get(k, d.data["metadata"].get("namespace"), d.data["metadata"]["name"]) is None]
    return apply_docs(store, missing, service_cidr=service_cidr) if missing else []
