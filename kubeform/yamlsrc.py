"""YAML loading that remembers where every value came from.

Error messages must name the file, line and field of a mistake, so every mapping and
sequence loaded here carries the line it starts on and the line of each of its keys.
The values are ordinary dicts and lists (subclasses), so the rest of the code does not
care.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from kubeform.errors import UserError


class LineDict(dict[Any, Any]):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Hashable, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: Hashable) -> int:
        """The line of ``key`` if it was loaded from YAML, else the mapping's own line."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


def line_of(node: Any, key: Hashable | None = None) -> int | None:
    """Best-known line of ``node`` (or of ``node[key]``); None for plain values."""
    if isinstance(node, LineDict):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, LineList):
        return node.line_of(key) if isinstance(key, int) else node.line
    return None


def field_path(parts: Iterable[Any]) -> str:
    """``tasks[4].copy.mode`` for a path of keys and indexes (as error messages name fields)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Constructing:
    """Builds LineDict/LineList and refuses duplicate keys (mixed into a loader)."""

    flatten_mapping: Any
    construct_object: Any

    def construct_yaml_map(self, node: yaml.MappingNode) -> Iterator[LineDict]:
        data = LineDict()
        data.line = node.start_mark.line + 1
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark
                )
            if key in data:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Iterator[LineList]:
        data = LineList()
        data.line = node.start_mark.line + 1
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_lines.append(child.start_mark.line + 1)


class _PyLoader(_Constructing, yaml.SafeLoader):  # type: ignore[misc]
    """The pure-Python parser: the reference, whose error messages the tests and users know."""


#: libyaml's parser when PyYAML has it (its nodes carry the same line marks): scanning in
#: Python was a third of the CPU of `kubeform apply` of a few dozen objects. A text it
#: refuses is parsed again by _PyLoader, so a mistake is still told in the same words.
_Loader: Any = type("_Loader", (_Constructing, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else _PyLoader

for _cls in {_PyLoader, _Loader}:
    _cls.add_constructor("tag:yaml.org,2002:map", _Constructing.construct_yaml_map)
    _cls.add_constructor("tag:yaml.org,2002:seq", _Constructing.construct_yaml_seq)


def _yaml_error(err: yaml.YAMLError, file: str) -> UserError:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    line = mark.line + 1 if mark is not None else None
    return UserError(f"invalid YAML: {problem}", file=file, line=line)


def load_all(text: str, file: str = "<input>") -> list[Any]:
    """Every document of a (multi-document) YAML text; a syntax error is a UserError."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as err:
        if _Loader is _PyLoader:
            raise _yaml_error(err, file) from None
    try:
        return list(yaml.load_all(text, Loader=_PyLoader))
    except yaml.YAMLError as err:
        raise _yaml_error(err, file) from None


def load(text: str, file: str = "<input>") -> Any:
    """The single document of a YAML text (None when empty)."""
    docs = load_all(text, file)
    if len(docs) > 1:
        raise UserError("expected one YAML document, found several", file=file)
    return docs[0] if docs else None


def load_file(path: str | Path) -> Any:
    """Load a one-document YAML file; a missing or unreadable file is a UserError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise UserError(f"cannot read: {err.strerror}", file=str(path)) from None
    return load(text, str(path))
