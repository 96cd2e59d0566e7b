"""Data-driven cases of the copy module (tests/data/modules/copy/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("copy"))
def test_copy(case: Path) -> None:
    check_case(case)


class _Ctx:
    """A controller context holding one local file."""

    base_dir = "/play"

    def read_local(self, path: str) -> bytes:
        assert path == "files/blob"
        return b"\x00\x01binary"

    def render(self, text: str) -> str:
        raise AssertionError("copy never renders")


def test_prepare_reads_src_as_bytes() -> None:
    from kubeform.modules.copy import Copy

    out = Copy().prepare({"src": "files/blob", "dest": "/opt/blob"}, _Ctx())
    assert out["_content"] == b"\x00\x01binary"


def test_binary_content_diff_is_a_hash_line() -> None:
    from kubeform.modules._files import parse_file
    from kubeform.modules.copy import Copy

    state = parse_file("/opt/blob", "kind=absent\n", 0)
    (change,) = Copy().plan(
        {"dest": "/opt/blob", "src": "blob", "_content": b"\x00\x01"}, {"file:/opt/blob": state}
    )
    assert change.diff is not None and change.diff.after is not None
    assert change.diff.after.startswith("binary content (sha256 ")
