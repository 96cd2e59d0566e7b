"""Reading manifest files: ``-f FILE|DIR|-``, multi-document YAML, JSON, ``kind: List``.

Every document keeps its file, its position and (through yamlsrc) the line of each
field, so a later validation error can say exactly where the mistake is.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubeform import yamlsrc
from kubeform.errors import UserError

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Doc:
    """One manifest document and where it came from."""

    file: str
    index: int  # 1-based document number within the file
    data: Any

    def where(self) -> str:
        return f"{self.file} (document {self.index})"


def _json_docs(text: str, file: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except json.JSONDecodeError as err:
        raise UserError(f"invalid JSON: {err.msg}", file=file, line=err.lineno) from None


def parse_text(text: str, file: str) -> list[Doc]:
    """Documents of one file's text; empty documents (``---`` at the end) are skipped.

    JSON is read by the YAML loader (it is YAML) so its lines are known too; only JSON
    that YAML refuses (tabs in indentation) falls back to the JSON parser.
    """
    try:
        raw = yamlsrc.load_all(text, file)
    except UserError:
        if not file.endswith(".json") and not text.lstrip().startswith(("{", "[")):
            raise
        raw = _json_docs(text, file)
    docs: list[Doc] = []
    for i, data in enumerate(raw, start=1):
        if data is None:
            continue
        if isinstance(data, dict) and data.get("kind") == "List" and isinstance(data.get("items"), list):
            docs.extend(Doc(file, i, item) for item in data["items"])
        else:
            docs.append(Doc(file, i, data))
    return docs


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    return [path]


def load_sources(sources: Sequence[str], *, stdin: Iterable[str] | None = None) -> list[Doc]:
    """All documents of ``-f`` arguments, in order (directories recursively, sorted)."""
    docs: list[Doc] = []
    for src in sources:
        if src == "-":
            text = "".join(stdin if stdin is not None else sys.stdin)
            docs.extend(parse_text(text, "<stdin>"))
            continue
        path = Path(src)
        if not path.exists():
            raise UserError("no such file or directory", file=src)
        for f in _files(path):
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise UserError(f"cannot read: {err}", file=str(f)) from None
            docs.extend(parse_text(text, str(f)))
    if not docs:
        raise UserError(f"no manifests found in {', '.join(sources)}")
    return docs
