"""Data-driven cases of the template module (tests/data/modules/template/*.yml)."""

from pathlib import Path

import pytest

from tests.unit.modules.module_cases import case_params, check_case


@pytest.mark.parametrize("case", case_params("template"))
def test_template(case: Path) -> None:
    check_case(case)


class _Ctx:
    """A controller context with one template file and a toy renderer."""

    base_dir = "/play"

    def read_local(self, path: str) -> bytes:
        assert path == "motd.j2"
        return b"hello {{ name }}\n"

    def render(self, text: str) -> str:
        return text.replace("{{ name }}", "node1")


def test_prepare_renders_into_content() -> None:
    from kubeform.modules.template import Template

    out = Template().prepare({"src": "motd.j2", "dest": "/etc/motd"}, _Ctx())
    assert out["_content"] == b"hello node1\n"
    assert out["dest"] == "/etc/motd"
