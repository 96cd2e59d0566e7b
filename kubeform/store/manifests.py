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

from kubeform import textfile, yamlsrc
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


def _json_int(digits: str) -> int:
    if len(digits) > yamlsrc.MAX_INT_DIGITS:
        raise ValueError(f"integer of {len(digits)} digits is too large (at most {yamlsrc.MAX_INT_DIGITS})")
    return int(digits)


def _json_docs(text: str, file: str) -> list[Any]:
    """JSON that YAML refused; held to the YAML loader's limits (depth, integer size)."""
    try:
        data = json.loads(text, parse_int=_json_int)
    except json.JSONDecodeError as err:
        raise UserError(f"invalid JSON: {err.msg}", file=file, line=err.lineno) from None
    except (ValueError, RecursionError) as err:
        message = str(err) if isinstance(err, ValueError) else "nested too deep"
        raise UserError(f"invalid JSON: {message}", file=file) from None
    if yamlsrc.depth(data) > yamlsrc.MAX_DEPTH:
        raise UserError(f"invalid JSON: nested deeper than {yamlsrc.MAX_DEPTH} levels", file=file)
    return [data]


def document_at(text: str, line: int | None) -> int | None:
    """The document number a line falls in, for a multi-document file (None otherwise).

    Counted from ``---`` markers, as the YAML loader numbers documents: a marker before
    any content opens document 1. A one-document file gets None, so its messages stay
    ``file:line``.
    """
    if line is None:
        return None
    lines = text.splitlines()
    markers = [i for i, ln in enumerate(lines, start=1) if ln == "---" or ln.startswith(("--- ", "---\t"))]
    if not markers:
        return None
    content_before_first = any(
        ln.strip() and not ln.lstrip().startswith(("#", "%")) for ln in lines[: markers[0] - 1]
    )
    number = sum(1 for m in markers if m < line) + (1 if content_before_first else 0)
    return max(number, 1)


def parse_text(text: str, file: str) -> list[Doc]:
    """Documents of one file's text; empty documents (``---`` at the end) are skipped.

    JSON is read by the YAML loader (it is YAML) so its lines are known too; only JSON
    that YAML refuses (tabs in indentation) falls back to the JSON parser.
    """
    try:
        raw = yamlsrc.load_all(text, file)
    except yamlsrc.LimitError as err:
        raise err.located(document=document_at(text, err.line)) from None
    except UserError as err:
        if not file.endswith(".json") and not text.lstrip().startswith(("{", "[")):
            raise err.located(document=document_at(text, err.line)) from None
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


def _stdin_lines() -> Iterable[str]:
    """Standard input as text; bytes that are not UTF-8 are a located UserError."""
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:  # replaced by a text stream (tests, embedding)
        return sys.stdin
    return [textfile.decode(raw.read(), "<stdin>")]


def load_sources(sources: Sequence[str], *, stdin: Iterable[str] | None = None) -> list[Doc]:
    """All documents of ``-f`` arguments, in order (directories recursively, sorted)."""
    docs: list[Doc] = []
    for src in sources:
        if src == "-":
            text = "".join(stdin if stdin is not None else _stdin_lines())
            docs.extend(parse_text(text, "<stdin>"))
            continue
        path = Path(src)
        if not path.exists():
            raise UserError("no such file or directory", file=src)
        for f in _files(path):
            text = textfile.read_text(f)
            docs.extend(parse_text(text, str(f)))
    if not docs:
        raise UserError(f"no manifests found in {', '.join(sources)}")
    return docs
