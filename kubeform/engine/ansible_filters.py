"""More of Ansible's filters, as real playbooks use them: ``comment``, ``split``,
``extract``, ``regex_escape``, ``zip``, ``zip_longest``, ``product``, ``subelements``,
``path_join``, ``human_readable``, ``human_to_bytes``, ``urlsplit``, ``log``, ``pow``,
``root``. Pure functions; the templating environment registers them by name.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

_COMMENT_STYLES = {
    "plain": ("", "#", ""),
    "erlang": ("", "%", ""),
    "c": ("", "//", ""),
    "cblock": ("/*", " *", " */"),
    "xml": ("<!--", " -", "-->"),
}


def comment(text: Any, style: str = "plain", decoration: str | None = None, prefix: str | None = None,
            postfix: str | None = None, beginning: str | None = None, end: str | None = None,
            prefix_count: int = 1, postfix_count: int = 1) -> str:  # fmt: skip
    """Ansible's ``comment``: the text as a comment block, ``#`` lines by default."""
    begin_d, deco_d, end_d = _COMMENT_STYLES.get(style, _COMMENT_STYLES["plain"])
    deco = deco_d if decoration is None else decoration
    deco_line = deco.rstrip()
    begin = begin_d if beginning is None else beginning
    finish = end_d if end is None else end
    pre = (deco_line + "\n") * prefix_count if prefix is None else prefix
    post = (deco_line + "\n") * postfix_count if postfix is None else postfix
    body = "".join(f"{deco} {line}".rstrip() + "\n" if line else deco_line + "\n" for line in str(text).splitlines())
    out = (begin + "\n" if begin else "") + pre + body + post + (finish + "\n" if finish else "")
    return out.rstrip("\n")


def extract(key: Any, container: Any, morekeys: Any = None) -> Any:
    """``['a'] | map('extract', hostvars, 'ansible_host')``: container[key][morekeys...]."""
    value = container[key]
    keys = [] if morekeys is None else (morekeys if isinstance(morekeys, list) else [morekeys])
    for k in keys:
        value = value[k]
    return value


def subelements(items: Any, key: str, skip_missing: bool = False) -> list[list[Any]]:
    out: list[list[Any]] = []
    for elem in list(items.values()) if isinstance(items, Mapping) else items:
        sub = elem.get(key) if isinstance(elem, Mapping) else None
        if sub is None:
            if skip_missing:
                continue
            raise ValueError(f"subelements: an element has no '{key}'")
        out.extend([elem, s] for s in sub)
    return out


_UNITS = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]


def human_readable(size: Any, isbits: bool = False, unit: str | None = None) -> str:
    n = float(size)
    suffix = "b" if isbits else "B"
    i = 0
    while (unit is None and abs(n) >= 1024 and i < len(_UNITS) - 1) or (unit is not None and _UNITS[i][0] != unit[0].upper() and i < len(_UNITS) - 1):
        n /= 1024
        i += 1
    return f"{n:.2f} {_UNITS[i][:-1]}{suffix}" if i else f"{n:.2f} {suffix}"


def human_to_bytes(text: Any, default_unit: str | None = None, isbits: bool = False) -> int:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([KMGTPE]?)(i?)([bB]?)\s*", str(text))
    if m is None:
        raise ValueError(f"human_to_bytes: cannot read {text!r}")
    power = "BKMGTPE".index(m.group(2) or (default_unit or "B")[0].upper())
    return int(float(m.group(1)) * 1024**power)


def ipwrap(value: Any) -> Any:
    """ansible.utils' ``ipwrap``: an IPv6 address in brackets, anything else unchanged."""
    if isinstance(value, list | tuple):
        return [ipwrap(v) for v in value]
    text = str(value)
    try:
        addr = ipaddress.ip_interface(text)
    except ValueError:
        return value
    return f"[{text}]" if addr.version == 6 and "/" not in text else value


def ipaddr(value: Any, query: str = "") -> Any:
    """ansible.utils' ``ipaddr`` for its common queries: the value when it is an address
    or network (``False`` otherwise), ``address``, ``network``, ``netmask``, ``prefix``,
    ``broadcast``, ``size``, or an integer (the n-th address of a network, with prefix)."""
    if isinstance(value, list | tuple):
        out = [ipaddr(v, query) for v in value]
        return [v for v in out if v not in (False, None)]
    try:
        iface = ipaddress.ip_interface(str(value).strip())
    except ValueError:
        return False
    net = iface.network
    q = str(query)
    if q in ("", "address", "host") and "/" not in str(value):
        return str(value) if q == "" else str(iface.ip)
    if re.fullmatch(r"-?\d+", q):
        return f"{net[int(q)]}/{net.prefixlen}"
    answers = {
        "": str(value), "address": str(iface.ip), "host": f"{iface.ip}/{net.prefixlen}", "network": str(net.network_address),
        "netmask": str(net.netmask), "prefix": net.prefixlen, "broadcast": str(net.broadcast_address),
        "size": net.num_addresses, "net": str(net), "cidr": str(net), "ipv4": str(value) if iface.version == 4 else False,
        "ipv6": str(value) if iface.version == 6 else False, "public": str(value) if iface.ip.is_global else False,
        "private": str(value) if iface.ip.is_private else False,
    }  # fmt: skip
    if q not in answers:
        raise ValueError(f"ipaddr: query '{q}' is not supported")
    return answers[q]


def _split(text: Any, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return str(text).split(sep, maxsplit)


FILTERS: dict[str, Callable[..., Any]] = {
    "comment": comment,
    "split": _split,
    "extract": extract,
    "regex_escape": lambda v, re_type="python": re.escape(str(v)),
    "zip": lambda *lists: [list(t) for t in zip(*lists, strict=False)],
    "zip_longest": lambda *lists, fillvalue=None: [list(t) for t in itertools.zip_longest(*lists, fillvalue=fillvalue)],
    "product": lambda *lists, repeat=1: [list(t) for t in itertools.product(*lists, repeat=repeat)],
    "permutations": lambda v, r=None: [list(t) for t in itertools.permutations(v, r)],
    "combinations": lambda v, r: [list(t) for t in itertools.combinations(v, r)],
    "subelements": subelements,
    "path_join": lambda parts: os.path.join(*[str(p) for p in (parts if isinstance(parts, Iterable) and not isinstance(parts, str) else [parts])]),
    "human_readable": human_readable,
    "human_to_bytes": human_to_bytes,
    "urlsplit": lambda url, query="": (dict(urlsplit(str(url))._asdict(), hostname=urlsplit(str(url)).hostname, port=urlsplit(str(url)).port) if not query else getattr(urlsplit(str(url)), query)),
    "log": lambda v, base=math.e: math.log(float(v), base),
    "pow": lambda v, p: math.pow(float(v), float(p)),
    "root": lambda v, base=2: float(v) ** (1.0 / float(base)),
    "ipwrap": ipwrap,
    "ipaddr": ipaddr,
    "ipv4": lambda v, q="": ipaddr(v, q) if ipaddr(v, "ipv4") is not False else False,
    "ipv6": lambda v, q="": ipaddr(v, q) if ipaddr(v, "ipv6") is not False else False,
}


def _ip_test(version: int | None, network: bool | None = None) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        text = str(value).strip()
        try:
            iface = ipaddress.ip_interface(text)
        except ValueError:
            return False
        if version is not None and iface.version != version:
            return False
        if network is True:
            return "/" in text
        if network is False:
            return "/" not in text
        return True

    return test


IP_TESTS: dict[str, Callable[[Any], bool]] = {
    "ip": _ip_test(None), "ipv4": _ip_test(4), "ipv6": _ip_test(6), "ip_address": _ip_test(None, False),
    "ipv4_address": _ip_test(4, False), "ipv6_address": _ip_test(6, False), "ipv4_netmask": _ip_test(4),
    "network_cidr": lambda v: _ip_test(None, True)(v),
}  # fmt: skip
"""ansible.utils' address tests (``x is ansible.utils.ipv4``)."""
