"""``-e`` extra variables: ``key=value`` pairs, inline YAML/JSON, or ``@file.yml``.

Extra variables have the highest precedence, so their parsing must be predictable:
``key=value`` values stay strings (as in Ansible), a mapping written inline or in a
file keeps its YAML types.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kubeform.errors import UserError
from kubeform.yamlsrc import load, load_file


def parse_extra_vars(values: Iterable[str]) -> dict[str, Any]:
    """Merge every ``-e`` argument, later ones winning."""
    out: dict[str, Any] = {}
    for raw in values:
        text = raw.strip()
        if text.startswith("@"):
            path = Path(text[1:])
            if not path.exists():
                raise UserError("no such extra-vars file", file=str(path), field="-e")
            data = load_file(path)
            if data is None:
                continue
            if not isinstance(data, dict):
                raise UserError("an extra-vars file must be a mapping", file=str(path), field="-e")
            out.update(data)
        elif text.startswith("{"):
            data = load(text, "-e")
            if not isinstance(data, dict):
                raise UserError(f"-e {raw!r}: expected a mapping", field="-e")
            out.update(data)
        elif text:
            for token in shlex.split(text):
                key, sep, value = token.partition("=")
                if not sep or not key.isidentifier():
                    raise UserError(f"-e {raw!r}: expected key=value, {{...}} or @file", field="-e")
                out[key] = value
    return out
