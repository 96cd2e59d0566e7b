"""Finding roles and reading their files, as Ansible lays them out.

A role is a directory ``<name>/`` with ``tasks/``, ``handlers/``, ``defaults/``,
``vars/``, ``meta/`` (each read from ``main.yml``, ``main.yaml`` or ``main``, or the
``*_from`` file an include names; defaults and vars also from the files of a ``main/``
directory), plus ``templates/`` and ``files/`` that relative
``src`` paths of its tasks resolve in. Roles are looked for, in order, in ``roles/``
beside the file that names them, ``roles/`` beside the playbook, the playbook's own
directory, and every directory of ``$ANSIBLE_ROLES_PATH``; a name with a slash is a path.
A collection role (``namespace.collection.role``) is found by its last part.

Only reading and locating here; what the tasks mean is the playbook loader's business.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeform.errors import UserError
from kubeform.yamlsrc import LineDict, LineList, load_file

_MAIN = ("main.yml", "main.yaml", "main")


@dataclass(frozen=True)
class Role:
    """A role's directory and what it declares (defaults, vars, dependencies)."""

    name: str
    path: Path
    defaults: Mapping[str, Any] = field(default_factory=dict)
    vars: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[Any, ...] = ()
    dependencies_file: str = ""
    dependencies_list: LineList | None = None

    def tasks_file(self, tasks_from: str | None = None) -> Path | None:
        return _entry(self.path / "tasks", tasks_from)

    def handlers_file(self, handlers_from: str | None = None) -> Path | None:
        return _entry(self.path / "handlers", handlers_from)


def role_dirs(playbook_dir: Path, from_dir: Path | None) -> list[Path]:
    """Directories roles are looked for in, first to last."""
    dirs: list[Path] = []
    if from_dir is not None:
        dirs.append(from_dir / "roles")
    dirs += [playbook_dir / "roles", playbook_dir]
    for part in os.environ.get("ANSIBLE_ROLES_PATH", "").split(os.pathsep):
        if part:
            dirs.append(Path(part).expanduser())
    return list(dict.fromkeys(dirs))


def find_role(name: str, playbook_dir: Path, from_dir: Path | None) -> Path | None:
    """The directory of role ``name``, or None."""
    if "/" in name:
        p = Path(name).expanduser()
        candidates = [p] if p.is_absolute() else [(from_dir or playbook_dir) / p, playbook_dir / p]
        if not p.is_absolute():  # as in Ansible, also under each roles directory
            candidates += [d / p for d in role_dirs(playbook_dir, from_dir)]
        return next((c for c in candidates if c.is_dir()), None)
    short = name.split(".")[-1] if name.count(".") >= 2 else name
    for d in role_dirs(playbook_dir, from_dir):
        for candidate in (d / name, d / short):
            if candidate.is_dir():
                return candidate
    return None


def _entry(directory: Path, stem: str | None) -> Path | None:
    """``main.yml`` (or the ``*_from`` file) of one of a role's directories."""
    names = _MAIN if stem is None else (stem, f"{stem}.yml", f"{stem}.yaml")
    for n in names:
        p = directory / n
        if p.is_file():
            return p
    return None


def _vars_of(directory: Path, stem: str | None) -> dict[str, Any]:
    """A role's defaults or vars: ``main.yml``, or every file of a ``main/`` directory
    (sorted by name, later files win), as Ansible reads them."""
    entry = _entry(directory, stem)
    if entry is None and stem is None and (directory / "main").is_dir():
        out: dict[str, Any] = {}
        for p in sorted((directory / "main").rglob("*")):
            if p.is_file() and p.suffix in (".yml", ".yaml", ".json", ""):
                out.update(_vars(p))
        return out
    return _vars(entry)


def _vars(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    data = load_file(path)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UserError("a role's vars file must be a mapping of variables", file=str(path), line=getattr(data, "line", 1))
    return dict(data)


def load_role(
    name: str, path: Path, *, vars_from: str | None = None, defaults_from: str | None = None
) -> Role:
    """A role's defaults, vars and meta dependencies (read once per use)."""
    meta_file = _entry(path / "meta", None)
    deps: Any = LineList()
    if meta_file is not None:
        meta = load_file(meta_file)
        if meta is not None and not isinstance(meta, LineDict):
            raise UserError("a role's meta/main.yml must be a mapping", file=str(meta_file), line=getattr(meta, "line", 1))
        deps = meta.get("dependencies") if meta is not None else None
        deps = deps or LineList()
        if not isinstance(deps, list):
            raise UserError("dependencies must be a list of roles", file=str(meta_file), field="dependencies")
    return Role(
        name=name,
        path=path,
        defaults=_vars_of(path / "defaults", defaults_from),
        vars=_vars_of(path / "vars", vars_from),
        dependencies=tuple(deps),
        dependencies_file=str(meta_file or ""),
        dependencies_list=deps if isinstance(deps, LineList) else None,
    )
