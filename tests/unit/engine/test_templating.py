"""Templating: Ansible's filters, native single expressions, strict undefined, conditions.

Data-driven from tests/data/engine/templating.yml (template/expr + vars -> expected).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.engine import templating
from kubeform.engine.templating import OMIT, TemplateError, evaluate, referenced_names, render

CASES = yaml.safe_load((Path(__file__).resolve().parent.parent.parent / "data" / "engine" / "templating.yml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c.get("template", c.get("expr")) for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    variables = case.get("vars") or {}
    if "error" in case:
        with pytest.raises(TemplateError) as info:
            if "expr" in case:
                evaluate(case["expr"], variables)
            else:
                render(case["template"], variables)
        assert case["error"] in str(info.value)
        return
    got = evaluate(case["expr"], variables) if "expr" in case else render(case["template"], variables)
    assert got == case["expect"]


def test_omit_drops_arguments() -> None:
    got = render({"a": "{{ omit }}", "b": "{{ x | default(omit) }}", "c": 1, "l": ["{{ omit }}", 2]}, {"omit": OMIT})
    assert got == {"c": 1, "l": [2]}


def test_referenced_names_sees_free_variables_only() -> None:
    text = "{{ a.b }} {% for i in xs %}{{ i }}{% endfor %} {% set y = 1 %}{{ y }}"
    assert referenced_names(text) == {"a", "xs"}
    assert referenced_names("r.rc == 0 and ok", expression=True) == {"r", "ok"}
    assert referenced_names({"k": ["{{ z }}", "plain"]}) == {"z"}


def test_non_templates_pass_through_untouched() -> None:
    assert render({"k": [1, "x", None, True]}, {}) == {"k": [1, "x", None, True]}
    assert not templating.is_template("50% done")


def test_conditions_are_anded() -> None:
    assert templating.conditions_hold(["a", "b"], {"a": True, "b": True})
    assert not templating.conditions_hold(["a", "b"], {"a": True, "b": False})
    assert templating.conditions_hold([], {})


def test_trailing_newline_after_a_lone_expression_is_kept() -> None:
    assert templating.render_string("{{ x }}\n", {"x": "a"}) == "a\n"
    assert templating.render_string("{{ x }}", {"x": 3}) == 3
