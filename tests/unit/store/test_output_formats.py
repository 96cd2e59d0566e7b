"""`-o` name, jsonpath, custom-columns: tests/data/printers/output_formats.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.errors import UserError
from kubeform.store import output_formats

DATA: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "data" / "printers" / "output_formats.yaml").read_text()
)


def _render(case: dict[str, Any]) -> str:
    fmt, arg = output_formats.parse(case["output"])
    objs = DATA["objects"][:1] if case.get("only_first") else DATA["objects"]
    if fmt == "custom-columns":
        return output_formats.custom_columns(arg, objs)
    if fmt == "jsonpath":
        return output_formats.jsonpath_text(arg, objs, case.get("single", False))
    assert fmt == "name"
    return output_formats.names(objs, {"Pod": "pod"})


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_output_format(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(UserError) as err:
            _render(case)
        assert case["error"] in str(err.value) and "\n" not in str(err.value)
    else:
        assert _render(case) == case["text"]


def test_file_variants(tmp_path: Path) -> None:
    template = tmp_path / "t.jsonpath"
    template.write_text('{range .items[*]}{.metadata.name}{"\\n"}{end}')
    assert output_formats.parse(f"jsonpath-file={template}") == ("jsonpath", template.read_text())
    columns = tmp_path / "cols"
    columns.write_text("NAME   IP\n.metadata.name   .status.podIP\n")
    assert output_formats.parse(f"custom-columns-file={columns}") == ("custom-columns", "NAME:.metadata.name,IP:.status.podIP")
    with pytest.raises(UserError, match="cannot read"):
        output_formats.parse(f"jsonpath-file={tmp_path / 'missing'}")
