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

from kubeform.errors import UserError, shorten
from kubeform.textfile import read_text


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


# Limits that keep a hostile or broken document from exhausting the stack, the memory or
# the clock of everything that walks the loaded values later (validation, templating,
# copies, JSON). No real inventory, playbook or manifest comes near them.
MAX_DEPTH = 100  # nested lists/maps, also through aliases (Go's JSON decoder: 10000)
MAX_ALIAS_GROWTH = 100_000  # values aliases may add beyond the document's own ("billion laughs")
MAX_INT_DIGITS = 4000  # Python refuses int("9" * 4301); say so with a line instead


class LimitError(UserError):
    """A document over one of the limits above (not a syntax error: no other parser,
    e.g. JSON's, should be tried on it)."""


class _Limit(yaml.composer.ComposerError):
    """Raised inside the loader for a limit; becomes a LimitError."""


# libyaml's parser when PyYAML was built with it: the pure-Python one takes seconds per
# megabyte (a 20 MB value: minutes). Both give the same nodes, marks and constructors;
# the pure-Python one words syntax errors better, so it re-reads a text that failed.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PRECISE_ERRORS_UP_TO = 200_000  # characters re-read for PyYAML's wording of an error


class _Lines(yaml.constructor.SafeConstructor):
    """Builds LineDict/LineList, refuses duplicate keys and bounds size (a loader mixin)."""

    # The limits are checked on the composed node graph, before anything is constructed.
    def get_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_node()  # type: ignore[misc]
        if node is not None:
            _check_expansion(node)
        return node

    def get_single_node(self) -> yaml.Node | None:
        node: yaml.Node | None = super().get_single_node()  # type: ignore[misc]
        if node is not None:
            _check_expansion(node)
        return node

    def construct_yaml_map(self, node: yaml.MappingNode) -> Iterator[LineDict]:  # type: ignore[override]
        data = LineDict()
        data.line = node.start_mark.line + 1
        yield data
        # ``<<: *anchor`` merges: merged keys come first (the first mapping named wins),
        # then the node's own keys, which override them; only own keys may not repeat.
        own = sum(1 for key_node, _ in node.value if key_node.tag != "tag:yaml.org,2002:merge")
        self.flatten_mapping(node)
        merged = len(node.value) - own
        own_keys: set[Hashable] = set()
        for i, (key_node, value_node) in enumerate(node.value):
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark
                )
            if i < merged:
                if key in data:
                    continue
            elif key in own_keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shorten(key)}", key_node.start_mark
                )
            else:
                own_keys.add(key)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node: yaml.SequenceNode) -> Iterator[LineList]:  # type: ignore[override]
        data = LineList()
        data.line = node.start_mark.line + 1
        yield data
        for child in node.value:
            data.append(self.construct_object(child, deep=True))
            data.item_lines.append(child.start_mark.line + 1)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Limit(None, None, f"integer of {digits} digits is too large (at most {MAX_INT_DIGITS})", node.start_mark)
        return int(super().construct_yaml_int(node))


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases recurse, nest too deep or expand too far.

    The constructor shares an aliased value instead of copying it, but everything that
    walks the result later (templating, deep copies, JSON, validation) sees it expanded:
    ten aliases of ten aliases ... are a billion values. Sizes and heights are memoized
    per node, so this is linear in the document as written.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    aliased: dict[int, bool] = {}
    in_progress: set[int] = {id(root)}
    blame: list[yaml.Node] = []

    def error(problem: str, node: yaml.Node) -> yaml.composer.ComposerError:
        return _Limit(None, None, problem, node.start_mark)

    def children(node: yaml.Node) -> list[yaml.Node]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.MappingNode):
            return [c for pair in node.value for c in pair]
        return []

    # Post-order without recursion (libyaml composes up to 1000 levels; Python would not).
    acc: dict[int, list[Any]] = {id(root): [1, 0, False]}  # size, tallest child, aliased
    stack: list[tuple[yaml.Node, list[yaml.Node], int]] = [(root, children(root), 0)]
    while stack:
        node, kids, i = stack[-1]
        if i < len(kids):
            stack[-1] = (node, kids, i + 1)
            child = kids[i]
            ck = id(child)
            if ck in in_progress:
                raise error("an alias refers to a value that contains it", child)
            if ck in size:  # seen before: this is an alias
                a = acc[id(node)]
                a[0] += size[ck]
                a[1] = max(a[1], height[ck])
                a[2] = True
            else:
                in_progress.add(ck)
                acc[ck] = [1, 0, False]
                stack.append((child, children(child), 0))
            continue
        stack.pop()
        key = id(node)
        in_progress.discard(key)
        total, tallest, shared = acc.pop(key)
        size[key], height[key], aliased[key] = total, tallest + 1, shared
        if height[key] > MAX_DEPTH:
            through = " (through aliases)" if shared else ""
            raise error(f"nested deeper than {MAX_DEPTH} levels{through}", node)
        if shared and total > MAX_ALIAS_GROWTH and not blame:
            blame.append(node)
        if stack:
            a = acc[id(stack[-1][0])]
            a[0] += total
            a[1] = max(a[1], height[key])
            a[2] = a[2] or shared
    if size[id(root)] - len(size) > MAX_ALIAS_GROWTH:
        raise error(
            f"aliases expand this to more than {MAX_ALIAS_GROWTH} values (a \"billion laughs\" document?)",
            blame[0] if blame else root,
        )


def depth(value: Any) -> int:
    """How deeply lists and dicts nest in ``value`` (a scalar is 0); no recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
    return deepest


class _Loader(_Lines, _Base):  # type: ignore[misc]
    """The loader: libyaml's parser (when present) with the constructors above."""


class _PyLoader(_Lines, yaml.SafeLoader):
    """The pure-Python parser, for its wording of syntax errors."""


for _cls in (_Loader, _PyLoader):
    _cls.add_constructor("tag:yaml.org,2002:map", _Lines.construct_yaml_map)  # type: ignore[type-var]
    _cls.add_constructor("tag:yaml.org,2002:seq", _Lines.construct_yaml_seq)  # type: ignore[type-var]
    _cls.add_constructor("tag:yaml.org,2002:int", _Lines.construct_yaml_int)  # type: ignore[type-var]


def _yaml_error(err: yaml.YAMLError, file: str, text: str) -> UserError:
    if isinstance(err, yaml.reader.ReaderError):  # no mark, only a character position
        line = text.count("\n", 0, err.position) + 1 if isinstance(err.position, int) else None
        what = f"#x{err.character:04x}" if isinstance(err.character, int) else repr(err.character)
        return UserError(f"invalid YAML: unacceptable character {what}: {err.reason}", file=file, line=line)
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err)
    line = mark.line + 1 if mark is not None else None
    limit = isinstance(err, _Limit) or "maximum nesting depth" in problem  # libyaml: 1000 levels
    return (LimitError if limit else UserError)(f"invalid YAML: {problem}", file=file, line=line)


def _rough_flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest, quotes ignored (only to decide on a re-read)."""
    level = deepest = 0
    for ch in text:
        if ch in "[{":
            level += 1
            deepest = max(deepest, level)
        elif ch in "]}":
            level = max(level - 1, 0)
    return deepest


def _precise(err: yaml.YAMLError, text: str) -> yaml.YAMLError:
    """PyYAML's error for a text libyaml refused ("expected ',' or ']', but got ':'"
    rather than "did not find expected ',' or ']'"); libyaml's if they disagree."""
    if (
        isinstance(err, _Limit)
        or "maximum nesting depth" in str(err)
        or _Loader.__mro__[2] is yaml.SafeLoader
        or len(text) > PRECISE_ERRORS_UP_TO
        or _rough_flow_depth(text) > MAX_DEPTH  # PyYAML's scanner is quadratic in it
    ):
        return err
    try:
        list(yaml.load_all(text, Loader=_PyLoader))
    except yaml.YAMLError as py_err:
        return py_err
    except RecursionError:
        pass
    return err


def load_all(text: str, file: str = "<input>") -> list[Any]:
    """Every document of a (multi-document) YAML text; a syntax error is a UserError."""
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as err:
        raise _yaml_error(_precise(err, text), file, text) from None
    except RecursionError:  # only without libyaml: PyYAML's own composer recurses
        raise LimitError(f"invalid YAML: nested deeper than {MAX_DEPTH} levels", file=file) from None


def load(text: str, file: str = "<input>") -> Any:
    """The single document of a YAML text (None when empty)."""
    docs = load_all(text, file)
    if len(docs) > 1:
        raise UserError("expected one YAML document, found several", file=file)
    return docs[0] if docs else None


def load_file(path: str | Path) -> Any:
    """Load a one-document YAML file; a missing, unreadable or non-UTF-8 file is a UserError."""
    return load(read_text(path), str(path))
