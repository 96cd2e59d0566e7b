"""Line-aware YAML loading: positions for error messages, clear syntax errors."""

from __future__ import annotations

import pytest

from kubeform.errors import UserError
from kubeform.yamlsrc import LimitError, LineDict, LineList, depth, load, load_all

DOC = """\
a: 1
b:
  - x
  - y: 2
    z: 3
"""


def test_lines_recorded() -> None:
    data = load(DOC, "f.yml")
    assert isinstance(data, LineDict)
    assert data.line_of("a") == 1
    assert data.line_of("b") == 2
    seq = data["b"]
    assert isinstance(seq, LineList)
    assert seq.line_of(1) == 4
    assert seq[1].line_of("z") == 5


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: [1, 2\nb: 3\n", 2, "invalid YAML"),
        ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
        ("a:\n\t- b\n", 2, "invalid YAML"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(UserError) as info:
        load(text, "bad.yml")
    msg = str(info.value)
    assert msg.startswith(f"bad.yml:{line}: ")
    assert fragment in msg


def test_multi_document() -> None:
    assert [d["k"] for d in load_all("k: 1\n---\nk: 2\n")] == [1, 2]


def test_error_format() -> None:
    err = UserError("must be a string", file="p.yml", line=3, field="tasks[0].name", document=2)
    assert str(err) == "p.yml (document 2):3: tasks[0].name: must be a string"


def test_merge_keys_accepted_own_keys_override() -> None:
    data = load("base: &b {x: 1, z: 3}\nother: &o {x: 5, w: 1}\nd:\n  <<: [*b, *o]\n  y: 2\n  x: 7\n", "m.yml")
    assert data["d"] == {"x": 7, "z": 3, "w": 1, "y": 2}
    assert load("b: &b {x: 1}\nd:\n  <<: *b\n", "m.yml")["d"] == {"x": 1}


def test_own_keys_still_may_not_repeat_beside_a_merge() -> None:
    with pytest.raises(UserError, match=r"m\.yml:5: invalid YAML: duplicate key 'y'"):
        load("b: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n  y: 3\n", "m.yml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x: " + "[" * 101 + "]" * 101 + "\n", "m.yml:1: invalid YAML: nested deeper than 100 levels"),
        ("x: " + "[" * 2000 + "]" * 2000 + "\n", "m.yml:1: invalid YAML: "),
        ("a: &a [1, *a]\n", "m.yml:1: invalid YAML: an alias refers to a value that contains it"),
        ("x: " + "9" * 4001 + "\n", "m.yml:1: invalid YAML: integer of 4001 digits is too large (at most 4000)"),
        ("a: 1\nb: \x07\n", "m.yml:2: invalid YAML: unacceptable character #x0007: special characters are not allowed"),
    ],
)
def test_limits_are_located_errors(text: str, message: str) -> None:
    with pytest.raises(LimitError if "unacceptable" not in message else UserError) as info:
        load(text, "m.yml")
    assert str(info.value).startswith(message)


def test_billion_laughs_refused_fast_and_small_aliases_fine() -> None:
    rows = ["a: &a [" + ", ".join(["x"] * 10) + "]"]
    rows += [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 10) + "]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)]
    with pytest.raises(LimitError, match="aliases expand this to more than 100000 values"):
        load("\n".join(rows) + "\n", "m.yml")
    assert len(load("\n".join(rows[:4]) + "\n", "m.yml")["d"]) == 10


def test_depth_counts_without_recursion() -> None:
    deep: list[object] = []
    cur = deep
    for _ in range(5000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    assert depth(deep) == 5001 and depth(1) == 0 and depth({"a": [1]}) == 2
