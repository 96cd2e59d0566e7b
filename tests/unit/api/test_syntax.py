"""Kubernetes' syntax rules (kubeform.api.syntax), worded as the apiserver words them."""

from __future__ import annotations

import pytest

from kubeform.api import syntax


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("app", True), ("app.kubernetes.io/name", True), ("a_b.c-d", True), ("x" * 63, True),
        ("x" * 64, False), ("-a", False), ("a/", False), ("/a", False), ("A.example/x", False),
        ("a/b/c", False), ("bad key", False), ("", False),
    ],
)  # fmt: skip
def test_qualified_name(key: str, ok: bool) -> None:
    assert (syntax.qualified_name(key) is None) == ok


@pytest.mark.parametrize(("value", "ok"), [("", True), ("v1.2_x", True), ("a" * 63, True), ("a" * 64, False), ("a b", False), ("-a", False)])
def test_label_value(value: str, ok: bool) -> None:
    assert (syntax.label_value(value) is None) == ok


@pytest.mark.parametrize(
    ("kind", "name", "ok"),
    [
        ("Service", "web", True), ("Service", "1web", False), ("Service", "s" * 64, False),
        ("Namespace", "a.b", False), ("Deployment", "a.b", True), ("Deployment", "d" * 254, False),
        ("CronJob", "c" * 52, True), ("CronJob", "c" * 53, False), ("Job", "j" * 64, False),
        ("Pod", "Upper", False),
    ],
)  # fmt: skip
def test_object_name(kind: str, name: str, ok: bool) -> None:
    assert (syntax.object_name(kind, name) is None) == ok


@pytest.mark.parametrize(("value", "ok"), [(1, True), (65535, True), (0, False), (70000, False), ("http", True), ("8080", True), ("99999", False), ("a--b", False), ("123", True), ("toolongportname1", False)])
def test_port_or_name(value: object, ok: bool) -> None:
    assert (syntax.port_or_name(value) is None) == ok


@pytest.mark.parametrize(("value", "ok"), [(0, True), (2**31 - 1, True), (-1, False), (2**31, False), ("3", True)])
def test_count(value: object, ok: bool) -> None:
    assert (syntax.count(value) is None) == ok
