"""Kubernetes resource quantities ("100m", "0.5", "128Mi", "1G", "1e3") as exact numbers.

Why exact: the scheduler compares sums of requests against allocatable, and a float sum of
"0.1" ten times is not 1. Quantities are parsed into ``Decimal`` (a quantity is a number
with an optional binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent (e3, E-2) suffix)
and turned into integers the way Kubernetes does: cpu in millicores, memory in bytes,
both rounded up. Parsed strings are cached: a cluster repeats a handful of them.
"""

import decimal
import functools
import re
from typing import Any

_NUMBER = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$")

_SUFFIX = {
    "": decimal.Decimal(1),
    "n": decimal.Decimal("1e-9"),
    "u": decimal.Decimal("1e-6"),
    "m": decimal.Decimal("1e-3"),
    "k": decimal.Decimal(10) ** 3,
    "M": decimal.Decimal(10) ** 6,
    "G": decimal.Decimal(10) ** 9,
    "T": decimal.Decimal(10) ** 12,
    "P": decimal.Decimal(10) ** 15,
    "E": decimal.Decimal(10) ** 18,
    "Ki": decimal.Decimal(2) ** 10,
    "Mi": decimal.Decimal(2) ** 20,
    "Gi": decimal.Decimal(2) ** 30,
    "Ti": decimal.Decimal(2) ** 40,
    "Pi": decimal.Decimal(2) ** 50,
    "Ei": decimal.Decimal(2) ** 60,
}

_CONTEXT = decimal.Context(prec=60)


class QuantityError(ValueError):
    """A value that is not a Kubernetes quantity (the message quotes it)."""


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> decimal.Decimal:
    m = _NUMBER.match(text.strip())
    if m is None:
        raise QuantityError("%r is not a quantity" % text)
    number, suffix = m.group(1), m.group(2) or ""
    if suffix[:1] in ("e", "E") and len(suffix) > 1:
        exponent = int(suffix[1:])
        if abs(exponent) > 40:
            raise QuantityError("%r is out of range" % text)
        return _CONTEXT.multiply(decimal.Decimal(number), decimal.Decimal(10) ** exponent)
    return _CONTEXT.multiply(decimal.Decimal(number), _SUFFIX[suffix])


def parse_quantity(value: Any) -> decimal.Decimal:
    """The exact value of a quantity given as a string or a YAML/JSON number."""
    if isinstance(value, bool):
        raise QuantityError("%r is not a quantity" % value)
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError("%r is not a quantity" % (value,))
    return _parse_text(value)


def _ceil(value: decimal.Decimal) -> int:
    return int(value.to_integral_value(rounding=decimal.ROUND_CEILING))


def _millis(value: Any) -> int:
    return _ceil(_CONTEXT.multiply(parse_quantity(value), decimal.Decimal(1000)))


def _whole(value: Any) -> int:
    return _ceil(parse_quantity(value))


_cached_millis = functools.lru_cache(maxsize=4096)(_millis)
_cached_whole = functools.lru_cache(maxsize=4096)(_whole)


def cpu_millis(value: Any) -> int:
    """CPU in millicores, rounded up ("0.5" -> 500, "100m" -> 100, 2 -> 2000, "1u" -> 1)."""
    return _cached_millis(value) if isinstance(value, str) else _millis(value)


def amount(value: Any) -> int:
    """A whole amount rounded up: memory in bytes ("128Mi" -> 134217728), pods (110)."""
    return _cached_whole(value) if isinstance(value, str) else _whole(value)
