"""Which stored objects a set of manifests names: ``get|describe|delete -f FILE|DIR``.

kubectl's ``-f`` verbs other than apply read only each document's kind, namespace and
name; the rest of the manifest may be anything. Pure: documents in, references out, one
located error (file, document, line, field) for the first document that names nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kubeform.api import kinds
from kubeform.errors import UserError
from kubeform.store import applier, validation
from kubeform.store.manifests import Doc


class Ref(NamedTuple):
    """One object a manifest names: its kind, namespace (cluster-scoped: "") and name."""

    kind: kinds.Kind
    namespace: str
    name: str


def refs_of(docs: Sequence[Doc], cli_namespace: str | None) -> list[Ref]:
    """The objects ``docs`` name, in file order, each once; a namespaced object without
    ``metadata.namespace`` is in ``-n``'s namespace (else default), as kubectl reads it."""
    out: list[Ref] = []
    for doc in docs:
        if not isinstance(doc.data, dict):
            raise UserError("a manifest must be a mapping", file=doc.file, document=doc.index)
        try:
            kind = kinds.for_manifest(doc.data.get("apiVersion"), doc.data.get("kind"))
        except UserError as err:
            line = validation.line_at(doc.data, [err.field]) if err.field else None
            raise err.located(file=doc.file, document=doc.index, line=line) from None
        meta = doc.data.get("metadata")
        mismatch = applier.namespace_mismatch(meta, kind, cli_namespace)
        if mismatch:
            line = validation.line_at(doc.data, ["metadata", "namespace"])
            raise UserError(mismatch, file=doc.file, document=doc.index, line=line, field="metadata.namespace")
        meta = meta if isinstance(meta, dict) else {}
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            line = validation.line_at(doc.data, ["metadata"])
            raise UserError("the manifest names no object (metadata.name is missing)",
                            file=doc.file, document=doc.index, line=line, field="metadata.name")
        namespace = str(meta.get("namespace") or cli_namespace or "default") if kind.namespaced else ""
        ref = Ref(kind, namespace, name)
        if ref not in out:
            out.append(ref)
    return out
