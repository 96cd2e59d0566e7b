"""Host patterns (``hosts:`` of a play, ``--limit``) with Ansible's semantics.

A pattern is a list of terms separated by ``,`` (or by ``:`` when there is no comma).
A plain term adds hosts, ``&term`` keeps only hosts also in it, ``!term`` removes
hosts in it; plain terms are applied first, then intersections, then exclusions, and a
pattern with only ``&``/``!`` terms starts from ``all``. A term is ``all`` or ``*``, a
group name, a host name, a glob (``web*``, ``db-?``, matched against group and host
names), or ``~regex`` (Python ``re.match``, anchored at the start); any term may end in
a subscript picking hosts from its result by position (``nodes[0]``, ``nodes[-1]``,
``nodes[1:3]`` inclusive, ``nodes[1:]``). Results keep inventory order. A term that
matches nothing is not an error here (the engine warns, as Ansible does): ``unmatched``
lists such terms.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable
from pathlib import Path

from kubeform.errors import UserError
from kubeform.inventory.model import Host, Inventory
from kubeform.textfile import read_text

_SUBSCRIPT = re.compile(r"^(.+)\[(?:(-?\d{1,9})|(\d{1,9}):(\d{0,9}))\]$")
_TERM = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")
_GLOB_CHARS = ("*", "?", "[", ".")


def split_pattern(pattern: str) -> list[str]:
    """The terms of a pattern, as written (with their ``&``/``!`` prefixes)."""
    pattern = pattern.strip()
    if "," in pattern:
        terms = pattern.split(",")
    elif _is_ipv6(pattern):
        terms = [pattern]
    else:
        terms = _TERM.findall(pattern)
    return [t.strip() for t in terms if t.strip()]


def _is_ipv6(text: str) -> bool:
    """An IPv6 address is one term, although it is full of ``:`` separators."""
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _ordered(terms: list[str]) -> list[str]:
    plain = [t for t in terms if t[0] not in "&!"]
    inter = [t for t in terms if t[0] == "&"]
    excl = [t for t in terms if t[0] == "!"]
    return (plain or ["all"]) + inter + excl


def _split_subscript(term: str) -> tuple[str, tuple[int, int | None] | None]:
    if term.startswith("~"):
        return term, None
    match = _SUBSCRIPT.match(term)
    if not match:
        return term, None
    base, index, start, end = match.groups()
    if index is not None:
        return base, (int(index), None)
    return base, (int(start), int(end) if end else -1)


def _apply_subscript(hosts: list[str], subscript: tuple[int, int | None] | None) -> list[str]:
    if subscript is None:
        return hosts
    start, end = subscript
    if end is None:
        try:
            return [hosts[start]]
        except IndexError:
            return []
    if end == -1:
        end = len(hosts) - 1
    return hosts[start : end + 1]


def _matcher(term: str) -> re.Pattern[str]:
    try:
        if term.startswith("~"):
            return re.compile(term[1:])
        return re.compile(fnmatch.translate(term))
    except re.error as err:
        raise UserError(f"invalid host pattern {term!r}: {err}", field="hosts") from None


def _match_term(inventory: Inventory, term: str) -> list[str]:
    """Host names one term (without prefix) stands for, in inventory order."""
    base, subscript = _split_subscript(term)
    if base in ("all", "*"):
        found = set(inventory.hosts)
    else:
        found = set()
        if base in inventory.groups:
            found.update(inventory.groups[base])
        elif base in inventory.hosts:
            found.add(base)
        if base not in inventory.groups and base not in inventory.hosts:
            regex = _matcher(base)
            for name, members in inventory.groups.items():
                if regex.match(name):
                    found.update(members)
            if base.startswith("~") or any(c in base for c in _GLOB_CHARS):
                found.update(h for h in inventory.hosts if regex.match(h))
    ordered = [h for h in inventory.hosts if h in found]
    return _apply_subscript(ordered, subscript)


def _evaluate(inventory: Inventory, pattern: str) -> list[str]:
    result: list[str] = []
    chosen: set[str] = set()
    for term in _ordered(split_pattern(pattern)):
        if term[0] == "&":
            keep = set(_match_term(inventory, term[1:]))
            result = [h for h in result if h in keep]
        elif term[0] == "!":
            drop = set(_match_term(inventory, term[1:]))
            result = [h for h in result if h not in drop]
        else:
            for host in _match_term(inventory, term):
                if host not in chosen:
                    chosen.add(host)
                    result.append(host)
        chosen = set(result)
    return [h for h in inventory.hosts if h in chosen]


def limit_terms(limit: str) -> str:
    """A ``--limit`` value as a pattern; ``@file`` reads one term per line from the file."""
    if not limit.startswith("@"):
        return limit
    path = Path(limit[1:])
    lines = read_text(path, what="limit file").splitlines()
    return ",".join(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def select(inventory: Inventory, pattern: str, limit: str | None = None) -> list[Host]:
    """The hosts ``pattern`` names (``limit`` narrows them, same syntax), inventory order."""
    names = _evaluate(inventory, pattern)
    if limit is not None and limit.strip():
        allowed = set(_evaluate(inventory, limit_terms(limit)))
        names = [h for h in names if h in allowed]
    return [inventory.hosts[h] for h in names]


def unmatched(inventory: Inventory, pattern: str) -> list[str]:
    """Terms of ``pattern`` that name no group and no host: the engine warns about each.

    An existing but empty group (kubespray's ``calico_rr``) is not reported.
    """
    missing: list[str] = []
    for term in split_pattern(pattern):
        base, _ = _split_subscript(term.lstrip("&!"))
        if base in ("all", "*") or base in inventory.groups or base in inventory.hosts:
            continue
        regex = _matcher(base)
        if not any(regex.match(n) for n in (*inventory.groups, *inventory.hosts)):
            missing.append(term)
    return missing


def names(hosts: Iterable[Host]) -> list[str]:
    """Host names, for messages and tests."""
    return [h.name for h in hosts]
