"""Host patterns as written in an inventory: ranges (``node[01:03]``) and ``host:port``.

Ansible inventories name many hosts with one line (``web[1:20].example.com``,
``10.0.0.[1:3]``, ``db-[a:c]``) and may carry an SSH port on the name
(``badwolf.example.com:5309``, ``[2001:db8::1]:22``). Existing inventories must load
unchanged, so this follows Ansible's rules: ``[begin:end]`` or ``[begin:end:step]``,
inclusive, zero-padded when ``begin`` is (then both bounds have the same width), single
letters for alphabetic ranges, several ranges per name. Pure functions; a malformed
pattern raises ``HostPatternError`` that the parsers turn into a located UserError.
"""

from __future__ import annotations

import re
import string

from kubeform.errors import cut, shorten

_BRACKETED_V6 = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?")


# Most hosts one pattern may stand for: ``node[0:99999999]`` is a typo, not a cluster,
# and expanding it would take minutes and gigabytes before any message.
MAX_RANGE_HOSTS = 10_000


class HostPatternError(ValueError):
    """A host pattern that cannot be expanded; the message says why."""


def _outside_brackets(text: str) -> str:
    """``text`` with every ``[...]`` part removed, to count the colons that matter."""
    return re.sub(r"\[[^\]]*\]", "", text)


def split_port(pattern: str) -> tuple[str, int | None]:
    """``(name, port)`` from ``name``, ``name:port``, ``[v6]:port``; bare IPv6 has no port."""
    v6 = _BRACKETED_V6.fullmatch(pattern)
    if v6 and ("::" in v6.group(1) or v6.group(1).count(":") >= 7):
        return v6.group(1), int(v6.group(2)) if v6.group(2) else None
    colons = _outside_brackets(pattern).count(":")
    if colons == 0:
        return pattern, None
    if colons > 1:  # an IPv6 address (possibly with ranges), which cannot carry a port
        return pattern, None
    name, _, port = pattern.rpartition(":")
    if not port.isdigit():
        raise HostPatternError(f"invalid port {port!r} in host {pattern!r}")
    if not 1 <= int(port) <= 65535:
        raise HostPatternError(f"port {port} in host {pattern!r} is out of range 1-65535")
    if not name:
        raise HostPatternError(f"missing host name before port in {pattern!r}")
    return name, int(port)


def _sequence(bounds: str, pattern: str) -> list[str]:
    """The names one ``begin:end[:step]`` stands for, formatted as Ansible does."""
    parts = bounds.split(":")
    if len(parts) not in (2, 3):
        raise HostPatternError(
            f"malformed host range [{bounds}] in {pattern!r}: expected [begin:end] or [begin:end:step]"
        )
    begin, end = parts[0] or "0", parts[1]
    step_text = parts[2] if len(parts) == 3 else "1"
    if not end:
        raise HostPatternError(f"malformed host range [{bounds}] in {pattern!r}: no end value")
    if any(len(part) > 9 for part in parts):
        raise HostPatternError(
            f"host range [{cut(bounds)}] in {shorten(pattern)} is too large (at most {MAX_RANGE_HOSTS} hosts)"
        )
    if not step_text.isdigit() or int(step_text) < 1:
        raise HostPatternError(
            f"malformed host range [{bounds}] in {pattern!r}: step must be a positive integer"
        )
    step = int(step_text)
    if begin in string.ascii_letters and end in string.ascii_letters:
        first, last = string.ascii_letters.index(begin), string.ascii_letters.index(end)
        if first > last:
            raise HostPatternError(
                f"malformed host range [{bounds}] in {pattern!r}: begin is after end"
            )
        return list(string.ascii_letters[first : last + 1 : step])
    if not (begin.isdigit() and end.isdigit()):
        raise HostPatternError(
            f"malformed host range [{bounds}] in {pattern!r}: bounds must be numbers or single letters"
        )
    width = len(begin) if begin.startswith("0") and len(begin) > 1 else 0
    if width and len(end) != width:
        raise HostPatternError(
            f"malformed host range [{bounds}] in {pattern!r}: "
            "zero-padded begin and end must have the same width"
        )
    if int(begin) > int(end):
        raise HostPatternError(
            f"malformed host range [{bounds}] in {pattern!r}: begin is after end"
        )
    if (int(end) - int(begin)) // step + 1 > MAX_RANGE_HOSTS:
        raise HostPatternError(
            f"host range [{bounds}] in {shorten(pattern)} is too large (at most {MAX_RANGE_HOSTS} hosts)"
        )
    return [str(i).zfill(width) for i in range(int(begin), int(end) + 1, step)]


def expand_range(name: str) -> list[str]:
    """Every host name a (possibly ranged) name stands for, in order."""
    if "[" not in name and "]" not in name:
        return [name]
    open_at = name.find("[")
    close_at = name.find("]", open_at + 1)
    if open_at < 0 or close_at < 0 or name.find("]") < open_at:
        raise HostPatternError(f"malformed host range in {name!r}: unbalanced brackets")
    head, bounds, tail = name[:open_at], name[open_at + 1 : close_at], name[close_at + 1 :]
    result: list[str] = []
    for item in _sequence(bounds, name):
        result.extend(expand_range(head + item + tail))
        if len(result) > MAX_RANGE_HOSTS:
            raise HostPatternError(f"host ranges in {shorten(name)} stand for more than {MAX_RANGE_HOSTS} hosts")
    return result


def expand_host_pattern(pattern: str) -> tuple[list[str], int | None]:
    """``(names, port)`` for one inventory host entry (port None when not given)."""
    pattern = pattern.strip()
    if not pattern:
        raise HostPatternError("empty host name")
    name, port = split_port(pattern)
    names = expand_range(name)
    for host in names:
        if any(c.isspace() for c in host) or not host:
            raise HostPatternError(f"invalid host name {host!r}")
    return names, port
