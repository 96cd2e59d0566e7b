"""Every user mistake in a playbook is one line naming file, line and field.

Data-driven: tests/data/engine/errors/<case>.yml is a broken playbook and <case>.expect
the exact message. Mistakes found by loading (shape, modules, arguments, templates) and
by the pre-connection name check (undefined variables) are both covered.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.engine.playbook import load_playbook
from kubeform.engine.runner import Options, run_playbook
from kubeform.errors import UserError
from tests.unit.engine.fakes import SYSTEM, FakePool, inventory, resolver, select

DATA = Path(__file__).resolve().parent.parent.parent / "data" / "engine" / "errors"
CASES = sorted(DATA.glob("*.yml"))


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_error_message(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case.parent)
    expected = case.with_suffix(".expect").read_text().strip()
    pool = FakePool()
    with pytest.raises(UserError) as info:
        pb = load_playbook(case.name, resolver())
        run_playbook(pb, inventory("h1"), Options(), pool, resolver=resolver(), selector=select, system_fact=SYSTEM)
    assert str(info.value) == expected
    assert pool.round_trips() == 0, "a playbook mistake must be found before connecting"


def test_runtime_undefined_attribute_fails_task_with_location(tmp_path: Path) -> None:
    """An undefined attribute only shows when rendering: the task fails, the error is located."""
    pb = tmp_path / "pb.yml"
    pb.write_text(
        "- hosts: all\n"
        "  vars: {cfg: {port: 1}}\n"
        "  tasks:\n"
        "    - name: reads a missing key\n"
        "      tcmd:\n"
        "        echo {{ cfg.host }}\n"
    )
    result = run_playbook(load_playbook(pb, resolver()), inventory("h1"), Options(), FakePool(), resolver=resolver(), selector=select)
    assert [r.status for r in result.results] == ["failed"]
    assert result.errors == [f"{pb}:4: tasks[0].tcmd: undefined: 'dict object' has no attribute 'host' (task 'reads a missing key')"]
    assert result.failed
