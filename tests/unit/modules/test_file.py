"""Data-driven cases of the file module (tests/data/modules/file/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("file"))
def test_file(case: Path) -> None:
    check_case(case)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0644", 0o644),
        ("644", 0o644),
        ("0o755", 0o755),
        (0o600, 0o600),
        (420, 0o644),
        ("u=rw,g=r,o=r", "u=rw,g=r,o=r"),
        (None, None),
    ],
)
def test_parse_mode(value: object, expected: object) -> None:
    from kubeform.modules._files import parse_mode

    assert parse_mode(value) == expected


@pytest.mark.parametrize(
    ("start", "spec", "is_dir", "expected"),
    [
        (0o644, "u+x", False, 0o744),
        (0o777, "go-w", False, 0o755),
        (0o600, "a+X", True, 0o711),
        (0o600, "a+X", False, 0o600),
        (0o644, "u=rwx,g=rx,o=", False, 0o750),
        (0o755, "+t", True, 0o1755),
    ],
)
def test_apply_symbolic(start: int, spec: str, is_dir: bool, expected: int) -> None:
    from kubeform.modules._files import apply_symbolic

    assert apply_symbolic(start, spec, is_dir) == expected
