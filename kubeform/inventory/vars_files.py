"""``group_vars/`` and ``host_vars/`` next to the inventory, found as Ansible finds them.

For an entity (group or host) called ``name`` under a ``group_vars`` or ``host_vars``
directory, Ansible reads ``name``, ``name.yml``, ``name.yaml`` and ``name.json``, and if
``name`` is a directory, every file in it (recursively, sorted, skipping hidden and
backup files, only those with one of these extensions or none). kubespray relies on the
directory form (``group_vars/all/all.yml``, ``group_vars/k8s_cluster/addons.yml``).
Each file must hold one mapping (or nothing); its variables are checked against the
schema's ``vars`` definition so a bad ``ansible_port`` names the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kubeform.errors import UserError
from kubeform.inventory.schema import validate_vars
from kubeform.yamlsrc import load_file

EXTENSIONS = ("", ".yml", ".yaml", ".json")


def _dir_files(directory: Path) -> list[Path]:
    found: list[Path] = []
    for entry in sorted(directory.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name.endswith("~"):
            continue
        if entry.is_dir() and not entry.suffix:
            found.extend(_dir_files(entry))
        elif entry.is_file() and entry.suffix in EXTENSIONS:
            found.append(entry)
    return found


def vars_files_for(base: Path, name: str) -> list[Path]:
    """The files that hold variables for ``name`` under ``base`` (group_vars or host_vars)."""
    if not base.is_dir():
        return []
    found: list[Path] = []
    for ext in EXTENSIONS:
        candidate = base / f"{name}{ext}"
        try:
            if candidate.is_dir() and not ext:
                found.extend(_dir_files(candidate))
            elif candidate.is_file():
                found.append(candidate)
        except OSError:  # a name too long for a file name (a 300-byte host): no such file
            continue
    return found


def load_vars_file(path: Path) -> dict[str, Any]:
    """One vars file as a mapping; anything else is a located UserError."""
    data = load_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(
            "a vars file must hold a mapping of variable names to values", file=str(path), line=1
        )
    validate_vars(data, str(path))
    return data


def load_layers(base: Path, names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """``{name: [vars of each file, in order]}`` for every name that has files.

    Paths stay as built from the path the user gave, so messages name them that way.
    """
    layers: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        for path in vars_files_for(base, name):
            layers.setdefault(name, []).append(load_vars_file(path))
    return layers
