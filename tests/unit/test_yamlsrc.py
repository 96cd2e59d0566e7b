"""Line-aware YAML loading: positions for error messages, clear syntax errors."""

from __future__ import annotations

import pytest

from kubeform.errors import UserError
from kubeform.yamlsrc import LineDict, LineList, load, load_all

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
