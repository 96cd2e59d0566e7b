"""kubeform.modules: lookup by name imports one file, and agrees with the full registry."""

from __future__ import annotations

from kubeform.modules import ALIAS_FILES, lookup, registry


def test_every_registered_name_resolves_to_its_class() -> None:
    for name, cls in registry().items():
        assert lookup(name) is cls, name
        assert lookup(f"ansible.builtin.{name}") is cls, name


def test_alias_table_is_complete_and_true() -> None:
    aliases = {name: cls.__module__.rsplit(".", 1)[1] for name, cls in registry().items() if name != cls.name}
    assert aliases == ALIAS_FILES


def test_unknown_names_and_engine_actions_are_not_modules() -> None:
    for name in ("debug", "set_fact", "copyy", "_files", "base", "lvol"):
        assert lookup(name) is None, name
