"""Validation: every problem is named by field path and line; unsupported fields warn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubeform import yamlsrc
from kubeform.errors import UserError
from kubeform.store import validation
from kubeform.store.applier import MultiError, validate_docs
from kubeform.store.manifests import parse_text

CASES = yamlsrc.load_file(Path(__file__).parent.parent.parent / "data" / "validation" / "cases.yaml")


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    doc = yamlsrc.load(case["manifest"], "m.yaml")
    _, problems = validation.check(doc)
    got = [(p.path, p.line, p.error) for p in problems]
    want = [(e["path"], e["line"], e["error"]) for e in case["problems"]]
    assert sorted(got) == sorted(want)
    for p in problems:
        exp = next(e for e in case["problems"] if e["path"] == p.path)
        assert exp["message"] in p.message


def test_strict_turns_warnings_into_errors() -> None:
    doc = yamlsrc.load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nextra: 1\n")
    _, problems = validation.check(doc, strict=True)
    assert [(p.path, p.error) for p in problems] == [("extra", True)]


def test_json_input_has_lines() -> None:
    text = '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {"name": "c"},\n  "data": {"a": 1}\n}\n'
    docs = parse_text(text, "c.json")
    with pytest.raises(MultiError) as err:
        validate_docs(docs)
    assert str(err.value).startswith("c.json (document 1):5: data.a: expected string")


def test_invalid_yaml_names_line() -> None:
    with pytest.raises(UserError) as err:
        parse_text("a: b\n  c: d\n", "x.yaml")
    assert "x.yaml:2" in str(err.value)


def test_all_errors_reported_together() -> None:
    docs = parse_text(
        "apiVersion: v1\nkind: Nope\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: B}\n",
        "f.yaml",
    )
    with pytest.raises(MultiError) as err:
        validate_docs(docs)
    text = str(err.value)
    assert "f.yaml (document 1):2: kind: unknown kind" in text
    assert "f.yaml (document 2):7: metadata.name" in text
    assert "nothing was applied" in text


def test_secret_values_never_in_errors() -> None:
    """A mistyped Secret value is reported by path and type, never echoed (errors reach logs)."""
    docs = parse_text(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  pin: 918273\n  list: [hunter2]\n"
        "data:\n  n: 564738\n",
        "s.yaml",
    )
    with pytest.raises(MultiError) as err:
        validate_docs(docs)
    text = str(err.value)
    for secret in ("918273", "hunter2", "564738"):
        assert secret not in text
    assert "s.yaml (document 1):5: stringData.pin: expected string, got integer (value not shown)" in text
    assert "s.yaml (document 1):6: stringData.list: expected string, got array" in text
    assert "s.yaml (document 1):8: data.n: expected string" in text


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("apiVersion: v1\n---\napiVersion: v1\nkind: [\n", "f.yaml (document 2):5: invalid YAML"),
        ("# leading comment\n---\na: 1\n---\nb: [\n", "f.yaml (document 2):6: invalid YAML"),
        ("a: {b\n---\nc: 1\n", "f.yaml (document 1):2: invalid YAML"),
        ("a: b\n  c: d\n", "f.yaml:2: invalid YAML"),  # one document: no number
    ],
)
def test_invalid_yaml_names_document(text: str, where: str) -> None:
    """A syntax error in a multi-document file says which document, as validation errors do."""
    with pytest.raises(UserError) as err:
        parse_text(text, "f.yaml")
    assert str(err.value).startswith(where)


def test_namespace_conflicting_with_cli_namespace_refused() -> None:
    """``-n other`` with a manifest saying ``namespace: default`` is an error (as in kubectl),
    not a silent choice of one of them; a manifest without a namespace takes ``-n``."""
    docs = parse_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n",
        "n.yaml",
    )
    with pytest.raises(MultiError) as err:
        validate_docs(docs, default_namespace="other")
    assert str(err.value).startswith(
        "n.yaml (document 1):5: metadata.namespace: the manifest's namespace 'default' does not match -n 'other'"
    )
    assert "document 2" not in str(err.value) and "document 3" not in str(err.value)
    good, _ = validate_docs(docs[1:], default_namespace="other")
    assert good[0][0].data["metadata"]["namespace"] == "other"
    assert validate_docs(docs[:1], default_namespace="default")[0]


def test_strict_message_does_not_say_kept() -> None:
    """Under --strict nothing is stored, so the message must not claim the field is kept."""
    doc = yamlsrc.load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nextra: 1\n")
    _, problems = validation.check(doc, strict=True)
    assert [p.message for p in problems] == ["field not supported by kubeform (--strict)"]
    _, problems = validation.check(doc)
    assert [p.message for p in problems] == ["field not supported by kubeform (kept, but ignored)"]
