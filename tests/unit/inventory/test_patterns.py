"""Host patterns with Ansible's semantics, driven by tests/data/inventory/patterns.yml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubeform.errors import UserError
from kubeform.inventory import Inventory, load_inventory
from kubeform.inventory.patterns import names, select, split_pattern, unmatched

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "inventory"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "patterns.yml").read_text())
_LOADED: dict[str, Inventory] = {}


def _inventory(case: str) -> Inventory:
    if case not in _LOADED:
        expected = yaml.safe_load((DATA / "parse" / case / "expected.yml").read_text())
        _LOADED[case] = load_inventory(DATA / "parse" / case / expected["source"])
    return _LOADED[case]


def _id(case: dict[str, Any]) -> str:
    limit = f" --limit {case['limit']}" if "limit" in case else ""
    return f"{case['inventory']}:{case['pattern']}{limit}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_select(case: dict[str, Any]) -> None:
    inventory = _inventory(case["inventory"])
    got = names(select(inventory, case["pattern"], limit=case.get("limit")))
    assert got == case["hosts"]
    assert unmatched(inventory, case["pattern"]) == case.get("unmatched", [])


@pytest.mark.parametrize(
    ("pattern", "terms"),
    [
        ("a:b", ["a", "b"]),
        ("a,b:c", ["a", "b:c"]),
        ("web[1:2]:db", ["web[1:2]", "db"]),
        ("a:&b:!c", ["a", "&b", "!c"]),
        (" a , b ", ["a", "b"]),
        ("fe80::1", ["fe80::1"]),
    ],
)
def test_split_pattern(pattern: str, terms: list[str]) -> None:
    assert split_pattern(pattern) == terms


def test_limit_file(tmp_path: Path) -> None:
    limit = tmp_path / "retry"
    limit.write_text("# hosts to retry\nfoo.example.com\n\nhost2\n")
    inventory = _inventory("ansible-docs-yaml")
    assert names(select(inventory, "all", limit=f"@{limit}")) == ["foo.example.com", "host2"]


def test_bad_regex_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"invalid host pattern '~\(oops'"):
        select(_inventory("ansible-docs-yaml"), "~(oops")


TERMS = [
    "all",
    "webservers",
    "dbservers",
    "east",
    "west",
    "prod",
    "test",
    "atlanta",
    "host1",
    "foo.example.com",
    "*.example.com",
    "~.*o",
    "nosuch",
]


@given(st.sampled_from(TERMS), st.sampled_from(TERMS))
def test_set_algebra(a: str, b: str) -> None:
    """Union, intersection and exclusion behave as sets, in inventory order."""
    inventory = _inventory("ansible-docs-yaml")
    order = list(inventory.hosts)

    def pick(pattern: str) -> list[str]:
        return names(select(inventory, pattern))

    left, right = set(pick(a)), set(pick(b))
    assert pick(f"{a},{b}") == [h for h in order if h in left | right]
    assert pick(f"{a},&{b}") == [h for h in order if h in left & right]
    assert pick(f"{a},!{b}") == [h for h in order if h in left - right]
    assert pick(f"{a},{b}") == pick(f"{b},{a}")
