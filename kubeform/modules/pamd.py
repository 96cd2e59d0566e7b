"""pamd: rules of a PAM service file (``community.general.pamd``).

The file (``/etc/pam.d/<name>``) is read with the usual file probe, edited here and
written back only when it changed, with a diff. A rule is matched by ``type``,
``control`` (bracket forms compared without their spacing) and ``module_path``, as
Ansible matches it; states ``updated``, ``before``, ``after``, ``args_present``,
``args_absent`` and ``absent``. Comments, ``@include`` lines and layout are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules._files import FileState, file_fact, plan_write, split_lines
from kubeform.modules.base import Change, Fact, Module, ModuleArgError

_RULE = re.compile(r"^(?P<type>-?(?:account|auth|password|session))\s+(?P<control>\[[^\]]*\]|\S+)\s+(?P<path>\S+)\s*(?P<args>.*?)\s*$")


def _norm_control(control: str) -> str:
    return re.sub(r"\s+", " ", control.strip())


def _args(text: str) -> list[str]:
    return re.findall(r"\[[^\]]*\]|\S+", text)


def _fmt(rtype: str, control: str, path: str, args: list[str]) -> str:
    return f"{rtype}\t{control}\t{path}" + (f"\t{' '.join(args)}" if args else "") + "\n"


def _arg_list(value: Any) -> list[str]:
    if value is None:
        return []
    return _args(value) if isinstance(value, str) else [str(v) for v in value]


def edit(text: str, args: Mapping[str, Any]) -> str:
    """The file's new text (pure)."""
    lines = split_lines(text)
    rtype, control, path = str(args["type"]), _norm_control(str(args["control"])), str(args["module_path"])
    state = str(args.get("state", "updated"))
    want_args = _arg_list(args.get("module_arguments"))
    out: list[str] = []
    matched = False
    for i, line in enumerate(lines):
        m = _RULE.match(line.rstrip("\n"))
        if not m or m.group("type").lstrip("-") != rtype.lstrip("-") or _norm_control(m.group("control")) != control or m.group("path") != path:
            out.append(line)
            continue
        matched = True
        cur_args = _args(m.group("args"))
        if state == "absent":
            continue
        if state == "updated":
            new = _fmt(str(args.get("new_type") or m.group("type")), str(args.get("new_control") or m.group("control")),
                       str(args.get("new_module_path") or path), want_args if "module_arguments" in args else cur_args)  # fmt: skip
            out.append(line if _RULE.match(new.rstrip("\n")) and _same(new, line) else new)
        elif state in ("before", "after"):
            for key in ("new_type", "new_control", "new_module_path"):
                if not args.get(key):
                    raise ModuleArgError(f"state {state} needs {key}", field=key)
            new = _fmt(str(args["new_type"]), str(args["new_control"]), str(args["new_module_path"]), want_args)
            neighbour = (out[-1] if out else "") if state == "before" else (lines[i + 1] if i + 1 < len(lines) else "")
            if state == "before":
                if not _same(new, neighbour):
                    out.append(new)
                out.append(line)
            else:
                out.append(line)
                if not _same(new, neighbour):
                    out.append(new)
        elif state in ("args_present", "args_absent"):
            keys = {a.split("=", 1)[0] for a in want_args}
            if state == "args_present":  # key=value replaces the same key; arguments already there stay put
                missing = [a for a in want_args if a not in cur_args]
                new_args = [a for a in cur_args if a.split("=", 1)[0] not in {m.split("=", 1)[0] for m in missing}] + missing
            else:  # an argument given as a bare key removes it with any value
                new_args = [a for a in cur_args if a not in want_args and a.split("=", 1)[0] not in keys]
            new = _fmt(m.group("type"), m.group("control"), path, new_args)
            out.append(line if new_args == cur_args else new)
    if not matched and state not in ("absent", "args_absent"):
        raise ModuleArgError(f"no rule '{rtype} {control} {path}' in the file", field="module_path")
    return "".join(out)


def _same(a: str, b: str) -> bool:
    ma, mb = _RULE.match(a.rstrip("\n")), _RULE.match(b.rstrip("\n"))
    if not ma or not mb:
        return False
    return (ma.group("type"), _norm_control(ma.group("control")), ma.group("path"), _args(ma.group("args"))) == (
        mb.group("type"), _norm_control(mb.group("control")), mb.group("path"), _args(mb.group("args")))  # fmt: skip


class Pamd(Module):
    """``name``, ``type``, ``control``, ``module_path``, ``new_*``, ``module_arguments``, ``state``, ``path``, ``backup``."""

    name: ClassVar[str] = "pamd"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "type", "control", "module_path"],
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9_.+-]+$"},
            "type": {"enum": ["account", "-account", "auth", "-auth", "password", "-password", "session", "-session"]},
            "control": {"type": "string"},
            "module_path": {"type": "string"},
            "new_type": {"enum": ["account", "-account", "auth", "-auth", "password", "-password", "session", "-session"]},
            "new_control": {"type": "string"},
            "new_module_path": {"type": "string"},
            "module_arguments": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "state": {"enum": ["updated", "before", "after", "args_present", "args_absent", "absent"]},
            "path": {"type": "string"},
            "backup": {"type": "boolean"},
        },
    }

    @staticmethod
    def _file(args: Mapping[str, Any]) -> str:
        return f"{str(args.get('path') or '/etc/pam.d').rstrip('/')}/{args['name']}"

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        return [file_fact(self._file(args))]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        path = self._file(args)
        state: FileState = facts[f"file:{path}"]
        if not state.is_file:
            raise ModuleArgError(f"{path} does not exist", field="name")
        before = state.text()
        after = edit(before, args)
        if after == before:
            return []
        return plan_write(path, state, after.encode(), {"backup": args.get("backup", False)}, what=f"pam rule {args.get('state', 'updated')}")
