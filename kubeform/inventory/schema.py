"""Validating inventory data against schemas/inventory.schema.json, with located errors.

The schema is the one place the inventory's shape and the types of the connection
variables are written down; it ships inside the package (kubeform/data/schemas, the
repository's schemas/ entry is a symlink to it) so an installed kubeform validates with
the very file the docs point at. jsonschema finds the mistakes; this module turns the
first one (in file order) into a UserError naming file, line and field, with a message a
person understands instead of jsonschema's repr-heavy text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from kubeform.errors import UserError
from kubeform.yamlsrc import LineDict, LineList, field_path

SCHEMA_RESOURCE = "data/schemas/inventory.schema.json"

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "empty",
}


@cache
def inventory_schema() -> dict[str, Any]:
    """The inventory JSON Schema, read once from the installed package."""
    text = resources.files("kubeform").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(definition: str | None) -> Draft202012Validator:
    """A validator for the whole schema, or for one of its ``$defs`` (e.g. ``vars``)."""
    schema = inventory_schema()
    if definition is not None:
        schema = {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _node_at(data: Any, path: Sequence[Any]) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def _line_in(container: Any, key: Any) -> int | None:
    if isinstance(container, LineDict | LineList):
        return container.line if key is None else container.line_of(key)
    return None


def _type_words(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_WORDS.get(t, t) for t in names)


def _describe(error: ValidationError, data: Any) -> tuple[list[Any], int | None, str]:
    """(field path, line, message) for one jsonschema error."""
    path = list(error.absolute_path)
    container = _node_at(data, path[:-1]) if path else None
    line = _line_in(container, path[-1]) if path else _line_in(data, None)
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    # errorMessage: one message, or one per failing keyword (the others keep ours).
    custom = schema.get("errorMessage")
    if isinstance(custom, Mapping):
        custom = custom.get(str(error.validator))
    if "propertyNames" in error.absolute_schema_path:
        obj = _node_at(data, path)
        key = error.instance
        return [*path, key], _line_in(obj, key), str(custom or f"invalid name {key!r}")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        key = extra[0] if extra else None
        return (
            [*path, key],
            _line_in(error.instance, key),
            f"unknown key (expected one of: {', '.join(allowed)})",
        )
    if custom:
        return path, line, str(custom)
    if error.validator == "type":
        return path, line, f"must be {_type_words(error.validator_value)}"
    if error.validator == "enum" and isinstance(error.validator_value, list):
        choices = ", ".join(str(v) for v in error.validator_value)
        return path, line, f"must be one of: {choices}"
    if error.validator == "minimum":
        return path, line, f"must be at least {error.validator_value}"
    if error.validator == "maximum":
        return path, line, f"must be at most {error.validator_value}"
    return path, line, error.message


def _raise_first(
    errors: Iterable[ValidationError], data: Any, file: str, prefix: Sequence[Any]
) -> None:
    described = [_describe(e, data) for e in errors]
    if not described:
        return
    path, line, message = min(described, key=lambda d: (d[1] or 0, len(d[0])))
    raise UserError(message, file=file, line=line, field=field_path([*prefix, *path]) or None)


def validate_inventory(data: Any, file: str) -> None:
    """Raise a located UserError for the first schema violation of a YAML inventory."""
    _raise_first(_validator(None).iter_errors(data), data, file, [])


def validate_vars(data: Any, file: str, prefix: Sequence[Any] = ()) -> None:
    """Raise a located UserError when a vars mapping (from INI or a vars file) is wrong."""
    _raise_first(_validator("vars").iter_errors(data), data, file, prefix)
