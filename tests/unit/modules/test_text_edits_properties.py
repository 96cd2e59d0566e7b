"""Properties of the pure text edits: applying an edit twice equals applying it once.

Why: idempotence is the contract of every module (a second plan after applying is
empty); the data cases show chosen files, these check it over generated ones.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubeform.modules._files import split_lines
from kubeform.modules.blockinfile import edit_block
from kubeform.modules.lineinfile import LineSpec, absent, present
from kubeform.modules.swap import edit_fstab
from kubeform.modules.sysctl import edit_conf

LINE = st.text(alphabet="abcx= #\t", max_size=12)
TEXT = st.lists(LINE, max_size=8).map(lambda ls: "\n".join(ls)) | st.lists(LINE, max_size=8).map(
    lambda ls: "".join(line + "\n" for line in ls)
)


def spec(line: str, **kw: object) -> LineSpec:
    base = {
        "line": line,
        "regexp": None,
        "search_string": None,
        "insertafter": None,
        "insertbefore": None,
        "backrefs": False,
        "firstmatch": False,
    }
    base.update(kw)
    return LineSpec(**base)  # type: ignore[arg-type]


@given(
    TEXT, st.sampled_from(["x=1", "# c", "a"]), st.sampled_from([None, "EOF", "BOF", "^a", "b$"])
)
def test_lineinfile_present_is_idempotent(text: str, line: str, after: str | None) -> None:
    s = spec(line, insertafter=after)
    once, _ = present(split_lines(text), s)
    twice, msg = present(once, s)
    assert twice == once and msg == ""


@given(TEXT)
def test_lineinfile_regexp_replace_is_idempotent(text: str) -> None:
    import re

    s = spec("x=2", regexp=re.compile("^x="))
    once, _ = present(split_lines(text), s)
    assert present(once, s) == (once, "")
    removed, _ = absent(once, s)
    assert not any(line.startswith("x=") for line in removed)


@given(TEXT, st.sampled_from(["a\nb\n", "c", ""]), st.sampled_from([None, "^a", "BOF"]))
def test_blockinfile_is_idempotent(text: str, block: str, before: str | None) -> None:
    kw = {"marker": "# {mark} M", "insertbefore": before}
    once, _ = edit_block(split_lines(text), block, present=True, **kw)  # type: ignore[arg-type]
    twice, _ = edit_block(once, block, present=True, **kw)  # type: ignore[arg-type]
    assert twice == once


@given(TEXT, st.sampled_from(["1", "0", "1024 65000"]))
def test_sysctl_edit_is_idempotent(text: str, value: str) -> None:
    once = edit_conf(text, "net.ipv4.ip_forward", value)
    assert edit_conf(once, "net.ipv4.ip_forward", value) == once
    assert once.count("net.ipv4.ip_forward") >= 1


@given(
    st.lists(
        st.sampled_from(["/dev/sda1 / xfs defaults 0 0", "/swap none swap sw 0 0", "# x", ""]),
        max_size=6,
    )
)
def test_fstab_off_then_on_round_trips(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    off = edit_fstab(text, present=False)
    assert edit_fstab(off, present=False) == off
    assert edit_fstab(off, present=True) == text
