"""JSON Schema checks that end in one readable line naming file, line and field.

jsonschema's own messages (``420.5 is not of type 'string', 'integer'``) are precise but
read like a stack dump; a user wants ``tasks[4].copy.mode: must be a string or
integer``. The path of the failing value is walked through the line-aware YAML
containers to find its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema.exceptions

from kubeform.errors import UserError
from kubeform.yamlsrc import field_path, line_of

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _join_or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


def friendly_message(err: jsonschema.exceptions.ValidationError) -> str:
    """A short English message for the common validators; jsonschema's text otherwise."""
    v = err.validator
    vv: Any = err.validator_value
    inst: Any = err.instance
    if v == "type":
        wanted = vv if isinstance(vv, list) else [vv]
        return "must be " + _join_or([_TYPE_NAMES.get(str(t), str(t)) for t in wanted])
    if v == "required":
        missing = [p for p in vv if isinstance(inst, Mapping) and p not in inst]
        return f"missing required field '{missing[0] if missing else vv[0]}'"
    if v == "additionalProperties":
        allowed = set((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, Mapping) else set()
        extra = sorted(str(k) for k in inst if k not in allowed) if isinstance(inst, Mapping) else []
        if extra:
            hint = f" (known: {', '.join(sorted(allowed))})" if allowed and len(allowed) <= 20 else ""
            return f"unknown field '{extra[0]}'{hint}"
    if v == "enum":
        return "must be one of: " + ", ".join(json.dumps(x) for x in vv)
    if v == "const":
        return f"must be {json.dumps(err.validator_value)}"
    if v == "pattern":
        return f"must match the pattern {err.validator_value}"
    if v in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        word = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[str(v)]
        return f"must be {word} {err.validator_value}"
    if v == "minItems":
        return f"must have at least {err.validator_value} item(s)"
    if v == "minLength":
        return "must not be empty" if err.validator_value == 1 else f"must be at least {err.validator_value} characters"
    if v in {"oneOf", "anyOf"} and err.context:
        names: list[str] = []
        for sub in err.context:
            if sub.validator == "type" and not sub.relative_path:
                sv: Any = sub.validator_value
                vals = sv if isinstance(sv, list) else [sv]
                names.extend(_TYPE_NAMES.get(str(t), str(t)) for t in vals)
        if names:
            return "must be " + _join_or(list(dict.fromkeys(names)))
        best = jsonschema.exceptions.best_match(err.context)
        if best is not None:
            return friendly_message(best)
    if v == "not":
        return "is not allowed here"
    return str(err.message)


def locate(root: Any, parts: Sequence[Any]) -> int | None:
    """The line of the deepest value along ``parts`` that knows its line."""
    node = root
    best = line_of(node)
    for p in parts:
        line = line_of(node, p)
        if line:
            best = line
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            break
    return best


def iter_errors(schema: Mapping[str, Any], instance: Any) -> Iterator[jsonschema.exceptions.ValidationError]:
    """Schema errors sorted by position, deepest-first per position (most specific)."""
    validator = _validator(json.dumps(schema, sort_keys=True))
    errors = list(validator.iter_errors(instance))
    errors.sort(key=lambda e: ([str(p) for p in e.absolute_path], -len(e.absolute_path)))
    yield from errors


@cache
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_json)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def check(
    schema: Mapping[str, Any],
    instance: Any,
    *,
    file: str,
    root: Any,
    prefix: Sequence[Any] = (),
    field_prefix: Sequence[Any] | None = None,
    skip: Any = None,
) -> None:
    """Raise one UserError for the first schema violation (None when valid).

    ``root`` is the line-aware container ``prefix`` is relative to; the field is named
    from ``field_prefix`` (default ``prefix``) plus the error's path; ``skip(path)`` may
    excuse errors (e.g. inside values that are still templates).
    """
    for err in iter_errors(schema, instance):
        path = list(err.absolute_path)
        if skip is not None and skip(path):
            continue
        shown = [*(prefix if field_prefix is None else field_prefix), *path]
        where = [*prefix, *path]
        if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
            allowed = set((err.schema.get("properties") or {}).keys()) if isinstance(err.schema, Mapping) else set()
            extra = sorted(str(k) for k in err.instance if k not in allowed)
            if extra:
                where.append(extra[0])  # point at the unknown key's own line
        line = locate(root, where)
        raise UserError(friendly_message(err), file=file, line=line, field=field_path(shown) or None)


def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in kubeform/data/schemas (installed with the package)."""
    text = resources.files("kubeform").joinpath("data", "schemas", name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
