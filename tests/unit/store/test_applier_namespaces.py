"""An object may only go into a namespace that exists (as Kubernetes refuses it otherwise).

Pure: which documents are refused, given the stored Namespaces; data-driven cases in
tests/data/namespaces/ and a property that document order never matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeform import yamlsrc
from kubeform.api import kinds
from kubeform.store import applier
from kubeform.store.manifests import Doc, parse_text

CASES = yamlsrc.load_file(Path(__file__).parent.parent.parent / "data" / "namespaces" / "cases.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    items, _ = applier.validate_docs(parse_text(case["manifests"], "m.yaml"))
    errors = applier.missing_namespace_errors(items, set(case["existing"]))
    assert [str(e) for e in errors] == list(case["errors"])


def test_no_store_read_needed_for_default_or_namespaces_of_the_apply() -> None:
    """The common apply (everything in `default` or in a namespace it creates) costs no read."""
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: team}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n"
    )
    items, _ = applier.validate_docs(parse_text(text, "m.yaml"))
    assert applier.namespaces_needed(items) == set()

    class NoReads:
        def keys(self, prefix: str) -> list[str]:
            raise AssertionError(f"unexpected read of {prefix}")

    applier.check_namespaces(NoReads(), items)  # type: ignore[arg-type]


def test_one_keys_only_read_per_apply() -> None:
    reads: list[str] = []

    class Keys:
        def keys(self, prefix: str) -> list[str]:
            reads.append(prefix)
            return ["/registry/namespaces/default", "/registry/namespaces/team"]

    objs = [Doc("m.yaml", i + 1, cm(f"c{i}", "team")) for i in range(50)]
    items = [(d, kinds.BY_KIND["ConfigMap"]) for d in objs]
    applier.check_namespaces(Keys(), items)  # type: ignore[arg-type]  # a fake with only keys()
    assert reads == ["/registry/namespaces/"]
    gone = (Doc("m.yaml", 51, cm("x", "gone")), kinds.BY_KIND["ConfigMap"])
    with pytest.raises(applier.MultiError, match='namespaces "gone" not found') as err:
        applier.check_namespaces(Keys(), [*items, gone])  # type: ignore[arg-type]
    assert len(err.value.errors) == 1 and "nothing was applied" in str(err.value)


def test_namespaces_are_written_first() -> None:
    docs = [Doc("m", 1, cm("a", "team")), Doc("m", 2, ns("team")), Doc("m", 3, cm("b", "team"))]
    items = [(d, kinds.BY_KIND[d.data["kind"]]) for d in docs]
    assert [d.index for d, _ in applier.namespaces_first(items)] == [2, 1, 3]


def cm(name: str, namespace: str | None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}


def ns(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


NAMES = st.sampled_from(["default", "team", "kube-system", "other"])


@given(
    st.lists(st.one_of(st.none(), NAMES), max_size=6),
    st.sets(NAMES, max_size=3),
    st.sets(NAMES, max_size=4),
    st.randoms(use_true_random=False),
)
def test_refused_exactly_when_namespace_missing_in_any_order(
    object_namespaces: list[str | None], created: set[str], existing: set[str], rnd: Any
) -> None:
    """A document is refused iff its namespace is neither default, stored, nor created by
    the apply; shuffling the documents never changes which ones."""
    docs = [cm(f"c{i}", n) for i, n in enumerate(object_namespaces)] + [ns(n) for n in sorted(created)]
    rnd.shuffle(docs)
    items = [(Doc("m", i + 1, d), kinds.BY_KIND[d["kind"]]) for i, d in enumerate(docs)]
    refused = {e.document for e in applier.missing_namespace_errors(items, existing)}
    ok = {"default"} | existing | created
    want = {
        i + 1
        for i, d in enumerate(docs)
        if d["kind"] == "ConfigMap" and (d["metadata"].get("namespace") or "default") not in ok
    }
    assert refused == want
