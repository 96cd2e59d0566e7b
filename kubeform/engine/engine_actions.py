"""The actions the engine performs itself, without a host: debug, set_fact, fail,
assert and meta.

Pure: each takes the task's rendered arguments and variables and returns an outcome
plus the effect the host run must apply (facts to set, handlers to flush). They never
touch a connection, so they run the same in check mode and in apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeform.engine import templating
from kubeform.engine.outcomes import Outcome
from kubeform.engine.variables import Vars, to_plain


@dataclass
class ActionOutcome:
    """An engine action's outcome and its effect on the host run."""

    outcome: Outcome
    set_facts: dict[str, Any] = field(default_factory=dict)
    flush_handlers: bool = False


def _ok(msg: str = "", **extra: Any) -> Outcome:
    result: dict[str, Any] = {"changed": False, "failed": False, **extra}
    if msg:
        result["msg"] = msg
    return Outcome("ok", result)


def _failed(msg: str, **extra: Any) -> Outcome:
    return Outcome("failed", {"changed": False, "failed": True, "msg": msg, **extra}, msg=msg)


def debug(args: Mapping[str, Any], v: Vars) -> ActionOutcome:
    if "var" in args:
        name = str(args["var"])
        value = templating.render_string("{{ " + name + " }}", v)
        msg = f"{name} = {to_plain(value)!r}"
    else:
        msg = str(args.get("msg", "Hello world!"))
    return ActionOutcome(Outcome("ok", {"changed": False, "failed": False, "msg": msg}, msg=msg))


def set_fact(args: Mapping[str, Any], v: Vars) -> ActionOutcome:
    values = {k: to_plain(val) for k, val in args.items() if k != "cacheable"}
    return ActionOutcome(_ok(ansible_facts=values), set_facts=values)


def fail(args: Mapping[str, Any], v: Vars) -> ActionOutcome:
    return ActionOutcome(_failed(str(args.get("msg", "Failed as requested from task"))))


def assert_(args: Mapping[str, Any], v: Vars) -> ActionOutcome:
    that = args.get("that", [])
    conditions = that if isinstance(that, list) else [that]
    for cond in conditions:
        if not templating.evaluate(cond, v):
            msg = str(args.get("fail_msg") or args.get("msg") or f"Assertion failed: {cond}")
            return ActionOutcome(_failed(msg, assertion=cond))
    return ActionOutcome(_ok(str(args.get("success_msg") or "All assertions passed")))


def meta(args: Mapping[str, Any], v: Vars) -> ActionOutcome:
    what = str(args.get("_raw_params") or args.get("msg") or "").strip() or next(iter(args), "")
    return ActionOutcome(Outcome("ok", {"changed": False, "failed": False}), flush_handlers=what == "flush_handlers")


ACTIONS = {"debug": debug, "set_fact": set_fact, "fail": fail, "assert": assert_, "meta": meta}
"""Action name -> function; every name is in ``playbook.ENGINE_ACTIONS``."""
