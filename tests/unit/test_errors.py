"""Cutting long values in messages (kubeform.errors.cut / shorten)."""

from __future__ import annotations

from kubeform.errors import MESSAGE_LIMIT, UserError, cut, shorten


def test_short_values_unchanged() -> None:
    assert shorten("ab") == "'ab'" and shorten(5) == "5" and cut("abc") == "abc"


def test_long_values_cut_in_the_middle_with_a_count() -> None:
    out = shorten("x" * 20_000_000)
    assert len(out) < 200 and "characters cut" in out and out.startswith("'xxx") and out.endswith("xx'")
    assert "19999921 characters cut" in out
    assert len(cut("y" * 1000)) <= 80


def test_user_error_line_is_bounded() -> None:
    err = UserError("bad value " + "z" * 5_000_000, file="f.yml", line=1, field="a." + "k" * 10_000)
    assert len(str(err)) < MESSAGE_LIMIT + 300
