"""arg_coercion: strings become the booleans and integers a module's schema wants."""

from __future__ import annotations

from typing import Any

import pytest

from kubeform.engine.arg_coercion import coerce

SCHEMA = {
    "type": "object",
    "properties": {
        "force": {"type": "boolean"},
        "enabled": {"type": ["boolean", "string"]},
        "retries": {"type": "integer"},
        "mode": {"type": ["string", "integer"]},
        "state": {"enum": ["present", "absent"]},
        "backup": {"oneOf": [{"type": "boolean"}]},
        "regexp": {"type": "string"},
    },
}


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        ({"force": "no"}, {"force": False}),
        ({"force": "Yes"}, {"force": True}),
        ({"force": "maybe"}, {"force": "maybe"}),  # left for the schema check to refuse
        ({"enabled": "yes"}, {"enabled": "yes"}),  # the module takes strings there
        ({"retries": "3"}, {"retries": 3}),
        ({"mode": "0644"}, {"mode": "0644"}),  # an octal string stays a string
        ({"state": "present"}, {"state": "present"}),
        ({"backup": "true"}, {"backup": True}),
        ({"other": "no"}, {"other": "no"}),
        ({"force": "{{ x }}"}, {"force": "{{ x }}"}),
        ({"regexp": 80}, {"regexp": "80"}),  # "{{ port }}" rendered to a number, for a string argument
        ({"mode": 420}, {"mode": 420}),  # the module takes integers there
        ({"regexp": True}, {"regexp": True}),  # a boolean is left for the schema check
    ],
)
def test_coerce(args: dict[str, Any], expect: dict[str, Any]) -> None:
    assert coerce(args, SCHEMA) == expect
