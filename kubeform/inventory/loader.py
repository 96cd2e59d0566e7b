"""``load_inventory(path)``: the imperative shell around the inventory parsers.

Reads the file (or every inventory file of a directory, as ``ansible -i dir/`` does),
decides per file whether it is the YAML or the INI form, then reads ``group_vars/`` and
``host_vars/`` beside it and hands everything to the pure ``build_inventory``.

Format: ``.yml``/``.yaml``/``.json`` are YAML; ``.ini``/``.cfg``/``.hosts`` are INI;
anything else (no extension included) is judged by its first meaningful line: a
``name:`` key with nothing or a space after the colon, or ``---``, means YAML, anything
else (``[group]``, ``host key=value``, ``host:2222``) means INI.
"""

from __future__ import annotations

import re
from pathlib import Path

from kubeform.errors import UserError
from kubeform.inventory.build import build_inventory
from kubeform.inventory.ini_format import parse_ini
from kubeform.inventory.model import Inventory
from kubeform.inventory.raw import RawInventory
from kubeform.inventory.vars_files import load_layers
from kubeform.inventory.yaml_format import parse_yaml
from kubeform.textfile import read_text
from kubeform.yamlsrc import load

YAML_SUFFIXES = {".yml", ".yaml", ".json"}
INI_SUFFIXES = {".ini", ".cfg", ".hosts"}
# Files in an inventory directory that are not inventories (Ansible skips the same kinds).
SKIPPED_SUFFIXES = {".md", ".txt", ".rst", ".orig", ".retry", ".bak", ".swp", ".pyc", ".pyo"}
VARS_DIRS = {"group_vars", "host_vars"}

_YAML_FIRST_LINE = re.compile(r"^(---|\.\.\.|[^\s\[=#;]+:(\s|$)|\{)")


def detect_format(path: Path, text: str) -> str:
    """``"yaml"`` or ``"ini"`` for one inventory file."""
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in INI_SUFFIXES:
        return "ini"
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        return "yaml" if _YAML_FIRST_LINE.match(stripped) else "ini"
    return "ini"


def _read(path: Path) -> str:
    return read_text(path, what="inventory")  # drops a BOM: a BOM is not a host name


def parse_source(path: Path, raw: RawInventory) -> None:
    """Record one inventory file into ``raw``."""
    text = _read(path)
    if detect_format(path, text) == "yaml":
        parse_yaml(load(text, str(path)), str(path), raw)
    else:
        parse_ini(text, str(path), raw)


def inventory_files(directory: Path) -> list[Path]:
    """The inventory files of a directory, in the order Ansible reads them (sorted)."""
    return [
        entry
        for entry in sorted(directory.iterdir(), key=lambda p: p.name)
        if entry.is_file()
        and not entry.name.startswith(".")
        and not entry.name.endswith("~")
        and entry.suffix.lower() not in SKIPPED_SUFFIXES
    ]


def load_inventory(path: str | Path) -> Inventory:
    """Load an Ansible-compatible inventory file or directory, with its vars directories."""
    source = Path(path)
    if not source.exists():
        raise UserError("inventory not found", file=str(path))
    raw = RawInventory()
    if source.is_dir():
        files = inventory_files(source)
        if not files:
            raise UserError("no inventory file in this directory", file=str(path))
        base = source
    else:
        files = [source]
        base = source.parent
    for file in files:
        parse_source(file, raw)
    raw_groups = list(raw.groups) + [g for g in ("all", "ungrouped") if g not in raw.groups]
    group_files = load_layers(base / "group_vars", raw_groups)
    host_files = load_layers(base / "host_vars", list(raw.hosts))
    return build_inventory(raw, str(path), group_files, host_files)
