"""Variables a task sees, layered by precedence and rendered only when read.

Precedence (lowest first), Ansible's simplified: inventory host vars < gathered system
facts < play ``vars`` < ``vars_files`` < block/task ``vars`` < registered results and
``set_fact`` < loop variable < ``-e`` extra vars. A variable whose value is itself a
template (``url: "http://{{ host }}:{{ port }}"``) is rendered when it is read, against
the same layers, so definitions may refer to each other in any order; a cycle is an
error rather than a hang.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from kubeform.engine import templating

PRECEDENCE = (
    "inventory",
    "facts",
    "play",
    "vars_files",
    "task",
    "registered",
    "loop",
    "extra",
)
"""Names of the layers, lowest precedence first (documented in docs/playbooks.md)."""

_guard = threading.local()


class Vars(Mapping[str, Any]):
    """A read-only view over variable layers; later layers win; templates render on read."""

    def __init__(self, *layers: Mapping[str, Any]) -> None:
        self._layers = [layer for layer in layers if layer]
        self._cache: dict[str, Any] = {}

    def child(self, *layers: Mapping[str, Any]) -> Vars:
        """A view with more layers on top (e.g. the loop item)."""
        return Vars(*self._layers, *layers)

    def raw(self, key: str) -> Any:
        for layer in reversed(self._layers):
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def __getitem__(self, key: str) -> Any:
        if key in self._cache:
            return self._cache[key]
        value = self.raw(key)
        if key == "hostvars" and isinstance(value, Mapping) and not isinstance(value, HostVars):
            value = HostVars(value, self)  # per host, per name: never the whole table at once
        elif _has_template(value):
            active: set[int] = getattr(_guard, "active", None) or set()
            _guard.active = active
            marker = id(self) ^ hash(key)
            if marker in active:
                raise templating.TemplateError(f"variable '{key}' refers to itself")
            active.add(marker)
            try:
                value = templating.render(value, self)
            finally:
                active.discard(marker)
        self._cache[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return any(key in layer for layer in self._layers)

    def __iter__(self) -> Iterator[str]:
        seen: dict[str, None] = {}
        for layer in self._layers:
            seen.update(dict.fromkeys(layer))
        return iter(seen)

    def __len__(self) -> int:
        return len(set().union(*(set(layer) for layer in self._layers))) if self._layers else 0


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return templating.is_template(value)
    if isinstance(value, Vars | HostVars):
        return False  # renders itself, name by name
    if isinstance(value, Mapping):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_template(v) for v in value)
    return False


def to_plain(value: Any) -> Any:
    """A deep copy made of plain dicts/lists (for JSON output and registered results)."""
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


class HostVars(Mapping[str, Any]):
    """``hostvars``: each host's variables rendered one name at a time, when read.

    Rendering the whole table would render every host's every variable, and a variable
    that reads ``hostvars`` itself (k3s-ansible's ``api_endpoint``) would then refer to
    itself; Ansible renders only the name asked for, and so does this view.
    """

    def __init__(self, table: Mapping[str, Any], outer: Vars) -> None:
        self._table = table
        self._outer = outer
        self._views: dict[str, Any] = {}

    def __getitem__(self, host: str) -> Any:
        if host not in self._views:
            raw = self._table[host]
            if not isinstance(raw, Mapping):
                return raw
            magic = {k: self._outer.raw(k) for k in ("groups", "omit", "playbook_dir") if k in self._outer}
            self._views[host] = Vars({**magic, "hostvars": self, "inventory_hostname": host}, raw)
        return self._views[host]

    def __contains__(self, host: object) -> bool:
        return host in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)
