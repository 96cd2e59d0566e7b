"""Task modules, discovered from this package's submodules.

Each submodule defines one or more ``Module`` subclasses with a ``name``; the registry
finds them by import, so adding a module is adding a file. Ansible's fully qualified
names (``ansible.builtin.copy``) and listed aliases resolve too.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from kubeform.modules.base import Module

_FQCN_PREFIXES = (
    "ansible.builtin.", "ansible.legacy.", "ansible.posix.", "community.general.", "community.mysql.",
    "community.crypto.", "kubeform.",
)  # fmt: skip


@cache
def registry() -> dict[str, type[Module]]:
    """Name (and alias) -> module class, for every module in this package."""
    found: dict[str, type[Module]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "base":
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if (
                issubclass(obj, Module)
                and not inspect.isabstract(obj)
                and obj.__module__ == mod.__name__
            ):
                for name in (obj.name, *obj.aliases):
                    found[name] = obj
    return found


@cache
def _file_names() -> frozenset[str]:
    return frozenset(info.name for info in pkgutil.iter_modules(__path__))


@cache
def _by_file(name: str) -> type[Module] | None:
    """The module named ``name`` in the file of the same name (no other file imported)."""
    if name.startswith("_") or name == "base" or name not in _file_names():
        return None
    mod = importlib.import_module(f"{__name__}.{name}")
    for _, obj in inspect.getmembers(mod, inspect.isclass):
        if issubclass(obj, Module) and not inspect.isabstract(obj) and obj.__module__ == mod.__name__ and obj.name == name:
            return obj
    return None


ALIAS_FILES = {
    "apt": "package", "dnf": "package", "yum": "package", "gather_facts": "facts", "setup": "facts",
    "modprobe": "kernel_module", "systemd": "service", "systemd_service": "service",
}  # fmt: skip
"""Alias -> the file defining it (tests/unit/modules/test_registry.py keeps it true)."""


def lookup(name: str) -> type[Module] | None:
    """The module class for ``name`` (short, aliased or fully qualified), or None.

    Only the file of that name (or of the alias) is imported: a playbook's start-up does
    not pay for every module, and an action that is no module (``debug``) costs nothing.
    """
    for prefix in _FQCN_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    if name in ALIAS_FILES:
        cls = _by_file(ALIAS_FILES[name])
        return cls if cls is not None and name in cls.aliases else None
    return _by_file(name)
