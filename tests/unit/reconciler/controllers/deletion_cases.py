"""Case files for the deletion controllers (garbage collector, namespaces, node lifecycle): a view (etcd key -> object) in, actions out.

Read by casefile.py; this module is the format's summaries. A case file is YAML: ``view`` ({key: object}; ``metadata.resourceVersion`` is the key's
mod_revision, default 1), optional ``base`` (a file in the same directory whose view the
case extends), ``now`` (default 2026-01-01T12:00:00Z), ``sync`` (a key or a list of keys)
and ``expect``: the actions, in order, each summarised as one of

- ``put: {key, rev}`` plus ``fields: {dotted.path: value}`` (only those paths are
  compared; null = absent);
- ``delete: {key, rev}``; ``unchanged: {key, rev}`` (a guard; rev 0 = absent);
- ``event: {involved: ns/name, reason, type, component, message}``; ``requeue: seconds``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from kubeform.reconciler.machinery.actions import (
    Action,
    CreateEvent,
    Delete,
    Put,
    Requeue,
    Unchanged,
)
from kubeform.reconciler.machinery.cache import Cache

from .casefile import dig, keys_of, now_of, view_of


def summary(action: Action, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    if isinstance(action, Put):
        out: dict[str, Any] = {"put": {"key": action.key, "rev": action.expect_mod_revision}}
        if fields:
            out["fields"] = {p: dig(action.obj, p) for p in fields}
        return out
    if isinstance(action, Delete):
        return {"delete": {"key": action.key, "rev": action.expect_mod_revision}}
    if isinstance(action, Unchanged):
        return {"unchanged": {"key": action.key, "rev": action.expect_mod_revision}}
    if isinstance(action, Requeue):
        return {"requeue": action.after}
    assert isinstance(action, CreateEvent), action
    meta = action.involved.get("metadata") or {}
    return {
        "event": {
            "involved": f"{meta.get('namespace') or 'default'}/{meta.get('name')}",
            "reason": action.reason,
            "type": action.event_type,
            "component": action.component,
            "message": action.message,
        }
    }


def run(
    case: dict[str, Any], sync: Callable[[str, Cache, datetime.datetime], list[Action]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sync every key of the case: (summaries of the actions, ``expect``), to compare."""
    view = view_of(case)
    got = [a for key in keys_of(case) for a in sync(key, view, now_of(case))]
    expect = case.get("expect") or []
    summaries = [summary(a, e.get("fields") if isinstance(e, dict) else None) for a, e in zip(got, expect, strict=False)]
    summaries += [summary(a) for a in got[len(expect):]]
    return summaries, expect
