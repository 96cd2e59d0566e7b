"""What a task came to: the outcome of each loop item, then the task's status, its
registered value, the changes it shows and its message.

Pure: the host run hands in what the module planned, what the steps returned and the
task's conditions; nothing here talks to a host. Kept apart from the host run so that
Ansible's rules for a task's result (``changed_when``/``failed_when`` over the registered
value, a loop's ``results`` list, a loop whose every item was skipped) are tested as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubeform.engine import templating
from kubeform.engine.results import ChangeView
from kubeform.engine.variables import Vars
from kubeform.modules.base import Change


class TaskFailure(Exception):
    """A task failed for a reason on the host (not the user's playbook)."""


@dataclass
class Outcome:
    """The outcome of one loop item (or of a task without loop)."""

    status: str  # ok | changed | failed | skipped
    result: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    msg: str = ""
    label: str | None = None
    would_run: bool = False  # check mode: the plan had steps that did not run


def truthy(value: Any) -> bool:
    """Ansible's ``bool`` filter: ``yes``, ``on``, ``1``, ``true`` ... are true."""
    return templating.FILTERS["bool"](value)  # type: ignore[no-any-return]


def skipped() -> Outcome:
    return Outcome("skipped", {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"})


def failed(msg: str) -> Outcome:
    return Outcome("failed", {"failed": True, "changed": False, "msg": msg}, msg=msg)


def reads(conditions: Sequence[Any], register: str | None) -> bool:
    """Whether conditions read the task's own registered name."""
    if not register:
        return False
    return register in templating.referenced_names(list(conditions), expression=True)


def module_outcome(
    *,
    changes: Sequence[Change],
    module_result: Mapping[str, Any] | Exception,
    failed_msg: str,
    would_run: bool,
    action: str,
    register: str | None,
    changed_when: Sequence[Any] | None,
    failed_when: Sequence[Any] | None,
    no_log: bool,
    check: bool,
    v: Vars,
) -> Outcome:
    """A module call's outcome: its result dict, then ``changed_when``/``failed_when``.

    In check mode a condition that reads the task's own registered result cannot be
    judged when steps did not run (``would_run``): the planned status stands.
    """
    result: dict[str, Any] = {"changed": bool(changes), "failed": bool(failed_msg), "skipped": False}
    if isinstance(module_result, Exception):
        err = module_result
        failed_msg = failed_msg or f"module {action} result: {type(err).__name__}: {err}"
    else:
        result.update(module_result)
    result["msg"] = failed_msg or "; ".join(c.summary for c in changes)
    if changes and any(c.diff for c in changes) and not no_log:
        result["diff"] = [
            {"label": c.diff.label, "before": c.diff.before, "after": c.diff.after}
            for c in changes if c.diff is not None and not c.diff.secret
        ]  # fmt: skip
    changed = bool(changes)
    if isinstance(module_result, Mapping) and "changed" in module_result and not check:
        # A step that found nothing to do after all (get_url's download had the same sum).
        changed = bool(module_result["changed"])
    result["changed"] = changed
    is_failed = bool(failed_msg)
    own = v.child({register: result} if register else {})
    if changed_when is not None and not (check and would_run and reads(changed_when, register)):
        changed = templating.conditions_hold(changed_when, own) if changed_when else changed
        result["changed"] = changed
    if failed_when is not None and not (check and would_run and reads(failed_when, register)):
        is_failed = templating.conditions_hold(failed_when, own) if failed_when else False
        result["failed"] = is_failed
        if is_failed and not failed_msg:
            failed_msg = "failed_when condition is true"
            result["msg"] = failed_msg
    status = "failed" if is_failed else ("changed" if changed else "ok")
    msg = failed_msg if is_failed else result["msg"] if changed else ""
    return Outcome(status, result, changes=list(changes), msg=msg, would_run=would_run)


def until_exhausted(item: Outcome, attempts: int) -> Outcome:
    """The last attempt of a task whose ``until`` never held: failed, saying so."""
    own = item.msg if item.status == "failed" else ""
    item.status = "failed"
    item.msg = f"'until' still false after {attempts} attempts" + (f": {own}" if own else "")
    item.result.update({"failed": True, "attempts": attempts, "msg": item.msg})
    return item


def task_status(items: Sequence[Outcome], looped: bool) -> str:
    """One status for the task: any failed item fails it; a loop of skips is skipped."""
    statuses = [i.status for i in items]
    if any(s == "failed" for s in statuses):
        return "failed"
    if looped and (not items or all(s == "skipped" for s in statuses)):
        return "skipped"
    if not looped and statuses == ["skipped"]:
        return "skipped"
    if any(s == "changed" for s in statuses):
        return "changed"
    return "ok"


def registered_value(items: Sequence[Outcome], status: str, looped: bool) -> dict[str, Any]:
    """What ``register`` stores: the item's result, or Ansible's ``results`` list for a loop."""
    if not looped:
        return items[0].result
    return {
        "results": [i.result for i in items],
        "changed": status == "changed",
        "failed": status == "failed",
        "skipped": status == "skipped",
        "msg": "All items completed" if status != "failed" else "One or more items failed",
    }


def shown_changes(items: Sequence[Outcome], looped: bool, no_log: bool, check: bool) -> list[ChangeView]:
    """The changes a task reports (a failed item's changes only when they were attempted)."""
    return [
        ChangeView.of(c, hide=no_log, label=i.label if looped else None)
        for i in items
        for c in i.changes
        if i.status == "changed" or (i.status == "failed" and not check)
    ]


def task_message(items: Sequence[Outcome], no_log: bool) -> str:
    msgs = [i.msg for i in items if i.msg]
    return "(output hidden by no_log)" if no_log and msgs else "; ".join(dict.fromkeys(msgs))


def item_lines(items: Sequence[Outcome], looped: bool) -> list[str]:
    return [f"{i.status}: {i.label}" for i in items] if looped else []
