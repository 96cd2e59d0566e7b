"""The actions the engine performs itself, without a host: debug, set_fact, fail,
assert, meta, include_vars, group_by and pause.

Each takes the task's rendered arguments, its variables and the directories its local
files are looked for in, and returns an outcome plus the effect the host run must apply
(facts to set, handlers to flush). They never touch a connection, so they run the same in
check mode and in apply; only include_vars reads (local) files.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeform.engine import templating
from kubeform.engine.outcomes import Outcome
from kubeform.engine.variables import Vars, to_plain
from kubeform.errors import UserError
from kubeform.yamlsrc import load_file


@dataclass
class ActionOutcome:
    """An engine action's outcome and its effect on the host run."""

    outcome: Outcome
    set_facts: dict[str, Any] = field(default_factory=dict)
    flush_handlers: bool = False
    add_group: tuple[str, tuple[str, ...]] | None = None  # group_by: (group, parent groups)


def _ok(msg: str = "", **extra: Any) -> Outcome:
    result: dict[str, Any] = {"changed": False, "failed": False, **extra}
    if msg:
        result["msg"] = msg
    return Outcome("ok", result)


def _failed(msg: str, **extra: Any) -> Outcome:
    return Outcome("failed", {"changed": False, "failed": True, "msg": msg, **extra}, msg=msg)


def debug(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    if "var" in args:
        name = str(args["var"])
        value = templating.render_string("{{ " + name + " }}", v)
        msg = f"{name} = {to_plain(value)!r}"
    else:
        msg = str(args.get("msg", "Hello world!"))
    return ActionOutcome(Outcome("ok", {"changed": False, "failed": False, "msg": msg}, msg=msg))


def set_fact(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    values = {k: to_plain(val) for k, val in args.items() if k != "cacheable"}
    return ActionOutcome(_ok(ansible_facts=values), set_facts=values)


def fail(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    return ActionOutcome(_failed(str(args.get("msg", "Failed as requested from task"))))


def assert_(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    that = args.get("that", [])
    conditions = that if isinstance(that, list) else [that]
    for cond in conditions:
        if not templating.evaluate(cond, v):
            msg = str(args.get("fail_msg") or args.get("msg") or f"Assertion failed: {cond}")
            return ActionOutcome(_failed(msg, assertion=cond))
    return ActionOutcome(_ok(str(args.get("success_msg") or "All assertions passed")))


def meta(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    what = str(args.get("_raw_params") or args.get("msg") or "").strip() or next(iter(args), "")
    return ActionOutcome(Outcome("ok", {"changed": False, "failed": False}), flush_handlers=what == "flush_handlers")


def group_by(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    """Put the host into the group ``key`` (made under ``parents``) for the later plays."""
    key = str(args.get("key") or "").strip()
    if not key:
        raise UserError("group_by needs a key (the group's name)", field="group_by.key")
    if re.search(r"[^A-Za-z0-9_.-]", key):
        key = re.sub(r"[^A-Za-z0-9_]", "_", key)  # Ansible's safe group names
    raw = args.get("parents", ["all"])
    parents = tuple(str(p) for p in ([raw] if isinstance(raw, str) else raw or []))
    outcome = Outcome("ok", {"changed": False, "failed": False, "add_group": key, "parent_groups": list(parents)})
    return ActionOutcome(outcome, add_group=(key, parents))


VARS_EXTENSIONS = ("yml", "yaml", "json")


def _vars_file(path: Path) -> dict[str, Any]:
    data = load_file(path)
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise UserError("a vars file must be a mapping of variables", file=str(path), line=getattr(data, "line", 1))
    return {str(k): to_plain(v) for k, v in data.items()}


def _find(path: str, dirs: Sequence[str], want_dir: bool) -> Path:
    from kubeform.engine.task_inputs import local_candidates

    candidates = local_candidates(path, dirs, ("vars", ""))
    for c in candidates:
        if (c.is_dir() if want_dir else c.is_file()):
            return c
    looked = ", ".join(dict.fromkeys(str(c.parent) for c in candidates))
    raise UserError(f"include_vars: no such {'directory' if want_dir else 'file'}: {path} (looked in {looked})")


def include_vars(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    """Variables from a YAML/JSON file (``file``, free form) or every file of a ``dir``."""
    loaded: dict[str, Any] = {}
    files: list[str] = []
    if args.get("dir"):
        root = _find(str(args["dir"]), dirs, want_dir=True)
        exts = tuple(f".{e}" for e in (args.get("extensions") or VARS_EXTENSIONS))
        ignore = set(args.get("ignore_files") or [])
        matching = re.compile(str(args["files_matching"])) if args.get("files_matching") else None
        depth = int(args.get("depth") or 0)
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root)
            if not p.is_file() or p.suffix not in exts or p.name in ignore or (depth and len(rel.parts) > depth):
                continue
            if matching is not None and not matching.search(p.name):
                continue
            loaded.update(_vars_file(p))
            files.append(str(p))
    else:
        name = args.get("file", args.get("_raw_params"))
        if not name:
            raise UserError("include_vars needs a file (or dir)", field="include_vars")
        p = _find(str(name).strip(), dirs, want_dir=False)
        loaded = _vars_file(p)
        files.append(str(p))
    values = {str(args["name"]): loaded} if args.get("name") else loaded
    return ActionOutcome(_ok(ansible_facts=values, ansible_included_var_files=files), set_facts=values)


def pause(args: Mapping[str, Any], v: Vars, dirs: Sequence[str] = ()) -> ActionOutcome:
    """``pause: seconds=N`` (or ``minutes``) waits, in a plan too, as Ansible's does; a
    ``prompt`` without a time would wait for a keypress: refused (kubeform runs unattended)."""
    try:
        seconds = float(args.get("seconds") or 0) + 60 * float(args.get("minutes") or 0)
    except (TypeError, ValueError):
        return ActionOutcome(_failed("pause: seconds and minutes must be numbers"))
    if seconds <= 0 and ("seconds" not in args and "minutes" not in args):
        return ActionOutcome(_failed("pause without seconds or minutes waits for a key press, which kubeform cannot give (add seconds:)"))
    time.sleep(min(seconds, 3600))
    return ActionOutcome(_ok(str(args.get("prompt") or ""), delta=int(seconds), user_input="", echo=bool(args.get("echo", True))))


Action = Callable[[Mapping[str, Any], Vars, Sequence[str]], ActionOutcome]

ACTIONS: dict[str, Action] = {
    "debug": debug, "set_fact": set_fact, "fail": fail, "assert": assert_, "meta": meta,
    "include_vars": include_vars, "group_by": group_by, "pause": pause,
}  # fmt: skip
"""Action name -> function; every name is in ``playbook.ENGINE_ACTIONS``."""
