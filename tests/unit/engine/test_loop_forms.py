"""loop_forms: Ansible's with_* loops as data (tests/data/engine/loop_forms.yml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine import loop_forms

CASES = yaml.safe_load((Path(__file__).resolve().parents[2] / "data" / "engine" / "loop_forms.yml").read_text())


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['form']}-{c['value']}")
def test_loop_form(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(loop_forms.LoopFormError, match=case["error"]):
            loop_forms.items(case["form"], case["value"])
        return
    assert loop_forms.items(case["form"], case["value"]) == case["items"]


def test_fileglob_looks_in_files_then_the_directory(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    for name in ("b.conf", "a.conf", "c.txt"):
        (tmp_path / "files" / name).write_text(name)
    found = loop_forms.items("with_fileglob", "*.conf", [str(tmp_path)])
    assert [Path(f).name for f in found] == ["a.conf", "b.conf"]
