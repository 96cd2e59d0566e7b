"""sysctl: a kernel parameter, persisted in a sysctl.d file and set at runtime.

The file (default ``/etc/sysctl.d/99-kubeform.conf``) holds one ``name = value`` line per
managed key; an existing line with the same key and an equal value is left as written,
duplicates are dropped. The runtime value (``sysctl -n``) is compared and set with
``sysctl -w`` when ``reload`` (default yes) or ``sysctl_set`` is on, so a host whose
file is right but whose kernel is not still converges (Ansible only reloads after a
file change). Values compare whitespace-insensitively (``net.ipv4.ip_local_port_range``
prints with tabs); ``yes``/``true`` mean ``1`` and ``no``/``false`` ``0``, as Ansible.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_content, split_lines
from kubeform.modules.base import Change, Diff, Fact, Module, ModuleArgError, Run

DEFAULT_FILE = "/etc/sysctl.d/99-kubeform.conf"
_TRUE = {"yes", "on", "true"}
_FALSE = {"no", "off", "false"}


def normalize_value(value: Any) -> str:
    """The value as sysctl prints it, whitespace collapsed; booleans as 1/0."""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = " ".join(str(value).split())
    if text.lower() in _TRUE:
        return "1"
    if text.lower() in _FALSE:
        return "0"
    return text


def normalize_key(key: str) -> str:
    """``net/ipv4/ip_forward`` and ``net.ipv4.ip_forward`` name the same key."""
    return key.strip().replace("/", ".")


def runtime_fact(name: str) -> Fact:
    """The live value, or None when the key does not exist (module not loaded yet)."""
    cmd = f"sysctl -n {shlex.quote(name)} 2>/dev/null"
    return Fact(
        key=f"sysctl:{name}",
        command=f"( {cmd} )",
        parse=lambda out, rc: normalize_value(out) if rc == 0 else None,
    )


def edit_conf(text: str, name: str, value: str | None) -> str:
    """``text`` of a sysctl.d file with ``name`` set to ``value`` (None: removed)."""
    out: list[str] = []
    seen = False
    key = normalize_key(name)
    for line in split_lines(text):
        body = line.strip()
        if body and not body.startswith(("#", ";")) and "=" in body:
            k, _, v = body.partition("=")
            if normalize_key(k.lstrip("-")) == key:
                if value is None or seen:
                    continue
                seen = True
                if normalize_value(v) != value:
                    line = f"{name} = {value}\n"
        out.append(line)
    if value is not None and not seen:
        if out and not out[-1].endswith("\n"):
            out[-1] += "\n"
        out.append(f"{name} = {value}\n")
    return "".join(out)


class Sysctl(Module):
    """Ansible's sysctl: name, value, state, sysctl_file, reload, sysctl_set, ignoreerrors."""

    name: ClassVar[str] = "sysctl"
    aliases: ClassVar[tuple[str, ...]] = ()
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "key": {"type": "string", "minLength": 1},
            "value": {"type": ["string", "number", "boolean"]},
            "val": {"type": ["string", "number", "boolean"]},
            "state": {"enum": ["present", "absent"]},
            "sysctl_file": {"type": "string", "minLength": 1},
            "reload": {"type": "boolean"},
            "sysctl_set": {"type": "boolean"},
            "ignoreerrors": {"type": "boolean"},
        },
        "additionalProperties": False,
    }

    @staticmethod
    def _name(args: Mapping[str, Any]) -> str:
        name = args.get("name") or args.get("key")
        if not name:
            raise ModuleArgError("name is required", field="name")
        return normalize_key(str(name))

    @staticmethod
    def _file(args: Mapping[str, Any]) -> str:
        return str(args.get("sysctl_file") or DEFAULT_FILE)

    @staticmethod
    def _runtime(args: Mapping[str, Any]) -> bool:
        present = args.get("state", "present") == "present"
        return present and bool(args.get("reload", True) or args.get("sysctl_set", False))

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        facts = [file_fact(self._file(args))]
        if self._runtime(args):
            facts.append(runtime_fact(self._name(args)))
        return facts

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        name = self._name(args)
        present = args.get("state", "present") == "present"
        raw = args.get("value", args.get("val"))
        if present and (raw is None or str(raw).strip() == ""):
            raise ModuleArgError("value is required with state=present", field="value")
        value = normalize_value(raw) if present else None
        path = self._file(args)
        state: FileState = facts[f"file:{path}"]
        changes: list[Change] = []
        if state.exists or present:
            new = edit_conf(state.text(), name, value)
            what = f"{name} = {value}" if present else f"{name} removed"
            changes += plan_content(path, state, new.encode(), create_parent=True, what=what)
        if self._runtime(args):
            live = facts[f"sysctl:{name}"]
            if live != value:
                flag = "-e " if args.get("ignoreerrors") else ""
                changes.append(
                    Change(
                        "change",
                        f"set {name} to {value}",
                        (Run(f"sysctl {flag}-w {shlex.quote(f'{name}={value}')}"),),
                        Diff(label=f"sysctl {name}", before=live, after=value),
                    )
                )
        return changes
