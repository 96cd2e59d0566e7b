"""Ansible's ``with_*`` loops, turned into the list ``loop`` iterates over.

``with_items: [a, [b, c]]`` is ``loop: [a, b, c]`` (flattened one level), ``with_dict``
gives ``{key, value}`` items, ``with_subelements`` (list, subkey) pairs, ``with_nested``
the cartesian product, ``with_together`` the zipped lists, ``with_sequence`` formatted
numbers, ``with_fileglob`` the controller's files matching a pattern. The form's value is
rendered first (templates inside work as in ``loop``); then ``items`` makes the list.
``with_first_found`` (lookups.py) the first existing controller file of its candidates.
Pure, except ``with_fileglob``/``with_first_found``/``with_file`` which read local files.
"""

from __future__ import annotations

import glob
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kubeform.engine import lookups

_SHORT_FORMS = (
    "loop", "with_items", "with_list", "with_dict", "with_subelements", "with_nested", "with_cartesian",
    "with_together", "with_sequence", "with_indexed_items", "with_flattened", "with_fileglob",
    "with_first_found", "with_env", "with_file",
)  # fmt: skip
FORMS: tuple[str, ...] = (
    *_SHORT_FORMS,
    *(f"with_{ns}.{f[5:]}" for ns in ("ansible.builtin", "community.general") for f in _SHORT_FORMS if f != "loop"),
)
"""``with_<lookup>`` by the lookup's short or fully qualified name."""


class LoopFormError(ValueError):
    """The value does not fit the form (e.g. ``with_dict`` of a list)."""


def _flatten(value: Any, levels: int | None) -> list[Any]:
    out: list[Any] = []
    for v in value:
        if isinstance(v, list | tuple) and (levels is None or levels > 0):
            out.extend(_flatten(v, None if levels is None else levels - 1))
        else:
            out.append(v)
    return out


def _as_list(value: Any, form: str) -> list[Any]:
    if isinstance(value, str) or isinstance(value, Mapping):
        if form in ("with_items", "with_flattened", "with_fileglob"):
            return [value]
        raise LoopFormError(f"{form} needs a list, got {type(value).__name__}")
    return list(value)


def _sequence(spec: Any) -> list[str]:
    """``with_sequence: start=1 end=10 stride=2 format=node%02d`` (or ``count=``)."""
    text = str(spec)
    args = dict(re.findall(r"(\w+)=(\S+)", text))
    short = re.fullmatch(r"\s*(\d+)-(\d+)(?:/(\d+))?(?::(\S+))?\s*", text)
    if short:
        args = {"start": short.group(1), "end": short.group(2), "stride": short.group(3) or "1", "format": short.group(4) or "%d"}
    try:
        start = int(args.get("start", "1"), 0)
        stride = int(args.get("stride", "1"), 0)
        end = start + (int(args["count"], 0) - 1) * stride if "count" in args else int(args["end"], 0)
    except (KeyError, ValueError):
        raise LoopFormError(f"with_sequence needs end= or count= (got {text!r})") from None
    if stride == 0:
        raise LoopFormError("with_sequence stride must not be 0")
    fmt = args.get("format", "%d")
    stop = end + (1 if stride > 0 else -1)
    return [fmt % i for i in range(start, stop, stride)][:100_000]


def _subelements(value: Any) -> list[list[Any]]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise LoopFormError("with_subelements needs [list, 'subkey'] (and optionally {skip_missing: true})")
    items, key = value[0], str(value[1])
    skip = bool(len(value) > 2 and isinstance(value[2], Mapping) and value[2].get("skip_missing"))
    if isinstance(items, Mapping):
        items = list(items.values())
    out: list[list[Any]] = []
    for elem in items:
        node: Any = elem
        for part in key.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            else:
                node = None
                break
        if node is None:
            if skip:
                continue
            raise LoopFormError(f"with_subelements: an element has no '{key}' (add {{skip_missing: true}})")
        out.extend([elem, sub] for sub in node)
    return out


def _fileglob(patterns: list[Any], dirs: Sequence[str]) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        p = str(pattern)
        roots = [""] if Path(p).is_absolute() else [str(Path(d) / sub) for d in dirs for sub in ("files", "")]
        for root in roots:
            hits = sorted(h for h in glob.glob(str(Path(root) / p)) if Path(h).is_file())
            if hits:
                found.extend(hits)
                break
    return found


def items(form: str, value: Any, dirs: Sequence[str] = (), action: str = "") -> list[Any]:
    """The items of a rendered loop ``value`` written as ``form``.

    ``dirs``: where controller files are looked for (role, task file, playbook);
    ``action``: the task's module, which picks ``first_found``'s subdirectory.
    """
    form = "with_" + form.removeprefix("with_").rsplit(".", 1)[-1] if form.startswith("with_") else form
    if form == "loop":
        if isinstance(value, str):
            raise LoopFormError("loop must be a list")
        if isinstance(value, Mapping):
            raise LoopFormError("loop must be a list (use dict2items for a mapping)")
        return list(value)
    if form == "with_items":
        return _flatten(_as_list(value, form), 1)
    if form == "with_list":
        return _as_list(value, form)
    if form == "with_flattened":
        return _flatten(_as_list(value, form), None)
    if form == "with_dict":
        if not isinstance(value, Mapping):
            raise LoopFormError(f"with_dict needs a mapping, got {type(value).__name__}")
        return [{"key": k, "value": v} for k, v in value.items()]
    if form == "with_indexed_items":
        return [[i, v] for i, v in enumerate(_flatten(_as_list(value, form), 1))]
    if form == "with_together":
        columns = [_as_list(v, form) for v in _as_list(value, form)]
        return [list(t) for t in itertools.zip_longest(*columns)]
    if form in ("with_nested", "with_cartesian"):
        lists: list[list[Any]] = [list(v) if isinstance(v, list | tuple) else [v] for v in _as_list(value, form)]
        return [list(t) for t in itertools.product(*lists)][:100_000]
    if form == "with_subelements":
        return _subelements(value)
    if form == "with_sequence":
        return _sequence(value)
    if form == "with_fileglob":
        return _fileglob(_as_list(value, form), dirs)
    if form == "with_first_found":
        try:
            return lookups.first_found(value, dirs, lookups.subdir_for(action))
        except lookups.LookupError_ as err:
            raise LoopFormError(str(err)) from None
    if form == "with_env":
        return [os.environ.get(str(v), "") for v in _as_list(value, form)]
    if form == "with_file":
        try:
            return [Path(lookups.first_found([str(v)], dirs, "files")[0]).read_text().rstrip("\n") for v in _as_list(value, form)]
        except lookups.LookupError_ as err:
            raise LoopFormError(str(err)) from None
    raise LoopFormError(f"{form} is not supported")
