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

_FQCN_PREFIXES = ("ansible.builtin.", "ansible.posix.", "community.general.", "kubeform.")


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


def lookup(name: str) -> type[Module] | None:
    """The module class for ``name`` (short, aliased or fully qualified), or None."""
    for prefix in _FQCN_PREFIXES:
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return registry().get(name)
