"""Verb wait: block until objects meet a condition or are gone, as ``kubectl wait`` does.

Scripts (and ``make demo``) need "until the pods run" without a sleep loop of their own:
``kubeform wait --for=condition=Ready pod --all -n demo --timeout 60s``. The check is a
pure function of the stored object; the loop polls the store, so it is level-triggered
and survives any etcd hiccup within the timeout.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from kubeform.api import selectors
from kubeform.cli.objects import _common, _connect, _split_ref
from kubeform.errors import UserError

Obj = dict[str, Any]
POLL_SECONDS = 0.5
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")


def parse_for(text: str) -> tuple[str, str, str]:
    """``condition=Ready``, ``condition=Ready=False``, ``delete`` -> (what, name, status)."""
    if text == "delete":
        return "delete", "", ""
    if text.startswith("condition="):
        rest = text[len("condition=") :]
        name, _, status = rest.partition("=")
        if name:
            return "condition", name, status or "True"
    if text.startswith("jsonpath="):
        raise UserError("--for=jsonpath is not supported; use condition=NAME or delete", field="--for")
    raise UserError(f"invalid --for {text!r}: use condition=NAME[=STATUS] or delete", field="--for")


def parse_timeout(text: str) -> float:
    """kubectl's durations: 30s, 2m, 1h, 500ms, or plain seconds."""
    m = _DURATION.match(text.strip())
    if not m:
        raise UserError(f"invalid --timeout {text!r} (e.g. 30s, 2m)", field="--timeout")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]
    return float(m.group(1)) * scale


def condition_met(obj: Obj, name: str, status: str) -> bool:
    """True when the object's status has condition ``name`` with ``status`` (case as stored)."""
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(cond, dict) and str(cond.get("type", "")).lower() == name.lower():
            return str(cond.get("status", "")).lower() == status.lower()
    return False


def cmd_wait(args: argparse.Namespace) -> int:
    what, cond, status = parse_for(args.for_)
    timeout = parse_timeout(args.timeout)
    refs = _split_ref(args.kind, args.names)
    if any(name is None for _, name in refs) and not (args.all or args.selector):
        raise UserError("name a resource, or give --all or -l", field="wait")
    selector = selectors.parse(args.selector) if args.selector else ()
    namespace = args.namespace or "default"
    _, store = _connect(args)
    deadline = time.monotonic() + timeout
    while True:
        pending: list[str] = []
        for kind, name in refs:
            if name is not None:
                obj = store.get(kind, namespace, name)
                objs = [obj] if obj is not None else []
                if obj is None and what != "delete":
                    pending.append(f"{kind.resource}/{name} (not found)")
                    continue
            else:
                objs = [
                    o for o in store.list(kind, namespace if kind.namespaced else None)
                    if selectors.matches(selector, (o.get("metadata") or {}).get("labels"))
                ]
                if not objs and what != "delete":
                    pending.append(f"{kind.resource} (none found)")
            for obj in objs:
                name_of = (obj.get("metadata") or {}).get("name", "")
                if what == "delete" or not condition_met(obj, cond, status):
                    pending.append(f"{kind.resource}/{name_of}")
        if not pending:
            return 0
        if time.monotonic() >= deadline:
            print(f"kubeform: error: timed out waiting for the condition on {', '.join(pending[:5])}", file=sys.stderr)
            return 1
        time.sleep(POLL_SECONDS)


def register(sub: argparse._SubParsersAction[Any]) -> None:
    p = sub.add_parser("wait", help="wait until objects meet a condition or are deleted (kubectl wait)")
    p.add_argument("kind", metavar="KIND[/NAME]")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--for", dest="for_", required=True, metavar="condition=NAME[=STATUS]|delete")
    p.add_argument("--all", action="store_true", help="every object of the kind in the namespace")
    p.add_argument("-l", "--selector", help="label selector")
    p.add_argument("--timeout", default="30s", help="give up after this long (default 30s)")
    _common(p)
    p.set_defaults(func=cmd_wait)
