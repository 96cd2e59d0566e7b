"""etcd_key: one key in etcd (v3 API) holds a given value, set through the host's etcdctl.

``kubeform up`` writes flannel's network config this way: the value is compared with
what etcd holds (a fact) so an unchanged config is never rewritten, the plan shows the
before/after, and the write happens on a cluster member with that member's client
certificate, so the operator's machine does not need to reach etcd.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any, ClassVar

from kubeform.modules.base import Action, Change, Diff, Fact, Module, Run

_UNREACHABLE = object()


def _etcdctl(args: Mapping[str, Any]) -> str:
    """The etcdctl invocation (API v3, TLS client auth) shared by the probe and the write."""
    parts = ["ETCDCTL_API=3", "etcdctl", f"--endpoints={shlex.quote(str(args['endpoints']))}"]
    for flag, name in (("--cacert", "cacert"), ("--cert", "cert"), ("--key", "client_key")):
        if args.get(name):
            parts.append(f"{flag}={shlex.quote(str(args[name]))}")
    return " ".join(parts)


def _parse(out: str, rc: int) -> Any:
    """The stored value (None: no such key); a failed probe means etcd is not up yet."""
    if rc != 0:
        return _UNREACHABLE
    return out[:-1] if out.endswith("\n") else (out or None)


class EtcdKey(Module):
    """Ensure an etcd key holds ``value`` (or is absent)."""

    name: ClassVar[str] = "etcd_key"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "key": {"type": "string", "minLength": 1},
            "value": {"type": "string"},
            "state": {"enum": ["present", "absent"]},
            "endpoints": {"type": "string", "minLength": 1},
            "cacert": {"type": "string"},
            "cert": {"type": "string"},
            "client_key": {"type": "string"},
        },
        "required": ["key", "endpoints"],
        "additionalProperties": False,
    }

    def facts(self, args: Mapping[str, Any]) -> list[Fact]:
        get = f"{_etcdctl(args)} get --print-value-only -- {shlex.quote(str(args['key']))}"
        return [Fact(key=f"etcd_key:{args['endpoints']}:{args['key']}", command=get, parse=_parse)]

    def plan(self, args: Mapping[str, Any], facts: Mapping[str, Any]) -> list[Change]:
        key = str(args["key"])
        current = facts[f"etcd_key:{args['endpoints']}:{key}"]
        before = None if current is _UNREACHABLE else current
        label = f"etcd {key}"
        if args.get("state", "present") == "absent":
            if current is None:
                return []
            cmd = f"{_etcdctl(args)} del -- {shlex.quote(key)}"
            return [Change("remove", f"delete {key}", (Run(cmd),), Diff(label, before, None))]
        value = str(args.get("value", ""))
        if current == value:
            return []
        cmd = f"{_etcdctl(args)} put -- {shlex.quote(key)}"
        action: Action = "add" if current is None or current is _UNREACHABLE else "change"
        return [
            Change(action, f"put {key}", (Run(cmd, stdin=value.encode()),), Diff(label, before, value))
        ]
