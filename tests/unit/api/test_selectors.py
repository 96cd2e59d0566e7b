"""Label selectors: parsing examples, round trips and matching against a reference (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeform.api import selectors
from kubeform.api.selectors import Requirement
from kubeform.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=b", [("a", "=", ("b",))]),
        ("a==b", [("a", "=", ("b",))]),
        ("a=", [("a", "=", ("",))]),
        ("a!=b,c", [("a", "!=", ("b",)), ("c", "exists", ())]),
        ("e in (y, x),!f", [("e", "in", ("x", "y")), ("f", "!", ())]),
        ("app.kubernetes.io/name notin (a,b)", [("app.kubernetes.io/name", "notin", ("a", "b"))]),
        ("", []),
    ],
)
def test_parse_examples(text: str, expected: list[tuple[str, str, tuple[str, ...]]]) -> None:
    assert [(r.key, r.op, r.values) for r in selectors.parse(text)] == expected


@pytest.mark.parametrize("text", ["a=b,", "in (a)", "a in a", "a in (b", "a b", "a=b=c", "!", "a in ()", "-a=b"])
def test_parse_errors(text: str) -> None:
    with pytest.raises(UserError):
        selectors.parse(text)


def test_label_selector_and_map() -> None:
    sel = selectors.from_label_selector(
        {"matchLabels": {"tier": "fe"}, "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}
    )
    assert selectors.matches(sel, {"tier": "fe"})
    assert not selectors.matches(sel, {"tier": "fe", "env": "dev"})
    assert selectors.matches(selectors.from_map({"a": "1"}), {"a": "1", "b": "2"})
    assert selectors.matches((), {})  # empty selects everything


_edge = st.sampled_from("abcxyz019")
names = st.one_of(
    _edge,
    st.builds(lambda a, m, b: a + m + b, _edge, st.text(alphabet="ab.-_9", max_size=5), _edge),
)
keys = st.one_of(names, st.builds(lambda p, n: f"{p}.io/{n}", names, names))
values = st.one_of(st.just(""), names)


@st.composite
def requirement(draw: st.DrawFn) -> Requirement:
    op = draw(st.sampled_from(selectors.OPS))
    key = draw(keys)
    if op in ("=", "!="):
        return selectors.requirement(key, op, (draw(values),))
    if op in ("in", "notin"):
        return selectors.requirement(key, op, tuple(draw(st.lists(names, min_size=1, max_size=3))))
    return selectors.requirement(key, op)


selector_st = st.lists(requirement(), max_size=5).map(tuple)
labels_st = st.dictionaries(keys, values, max_size=5)


@given(selector_st)
def test_round_trip(sel: tuple[Requirement, ...]) -> None:
    assert selectors.parse(selectors.format_selector(sel)) == sel


def reference_match(sel: tuple[Requirement, ...], labels: dict[str, str]) -> bool:
    """Kubernetes' semantics spelled out independently, one operator at a time."""
    for r in sel:
        if r.op == "exists" and r.key not in labels:
            return False
        if r.op == "!" and r.key in labels:
            return False
        if r.op in ("=", "in") and (r.key not in labels or labels[r.key] not in r.values):
            return False
        if r.op in ("!=", "notin") and r.key in labels and labels[r.key] in r.values:
            return False
    return True


@given(selector_st, labels_st)
def test_matches_reference(sel: tuple[Requirement, ...], labels: dict[str, str]) -> None:
    assert selectors.matches(sel, labels) == reference_match(sel, labels)


@given(selector_st, labels_st)
def test_string_form_matches_the_same(sel: tuple[Requirement, ...], labels: dict[str, str]) -> None:
    assert selectors.matches(selectors.parse(selectors.format_selector(sel)), labels) == selectors.matches(sel, labels)
