"""Module arguments converted as Ansible converts them before checking their types.

``key=value`` arguments are strings (``enabled=yes``, ``mode=0644``), and people write
``force: 'no'`` in YAML too; Ansible turns a string into a boolean or an integer where
the module's argument is one. Here the module's schema says which: a string becomes a
boolean where the property takes booleans but not strings, and an integer where it takes
integers but not strings; a number becomes its text where the property takes strings
but no numbers. Everything else is left for the schema check to judge. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

TRUE = frozenset({"yes", "on", "true", "1", "y", "t"})
FALSE = frozenset({"no", "off", "false", "0", "n", "f"})
_INT = re.compile(r"^[+-]?\d{1,18}$")


def _types(prop: Any) -> set[str]:
    if not isinstance(prop, Mapping):
        return set()
    found: set[str] = set()
    t = prop.get("type")
    if isinstance(t, str):
        found.add(t)
    elif isinstance(t, list):
        found |= {str(x) for x in t}
    if "enum" in prop and isinstance(prop["enum"], list):
        found |= {"boolean" if isinstance(e, bool) else "string" if isinstance(e, str) else "other" for e in prop["enum"]}
    for key in ("oneOf", "anyOf"):
        for sub in prop.get(key) or []:
            found |= _types(sub)
    return found


def coerce(args: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments with strings turned into the booleans and integers the schema wants."""
    props = schema.get("properties") or {}
    out = dict(args)
    for key, value in args.items():
        if key not in props:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            # ``regexp: "{{ port }}"`` renders to 80: a string argument takes its text, as in Ansible
            wants = _types(props[key])
            if "string" in wants and not wants & {"integer", "number"}:
                out[key] = str(value)
            continue
        if not isinstance(value, str):
            continue
        types = _types(props[key])
        if "string" in types:
            continue
        text = value.strip().lower()
        if "boolean" in types and text in TRUE | FALSE:
            out[key] = text in TRUE
        elif "integer" in types and _INT.match(text):
            out[key] = int(text)
    return out
