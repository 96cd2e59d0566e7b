"""SELinux file contexts (``seuser``, ``serole``, ``setype``, ``selevel``) as Ansible's
file modules take them: compared with the path's label and set with ``chcon``.

As in Ansible, they are ignored on a host without SELinux (``stat %C`` answers ``?``
or nothing, or ``selinuxenabled`` fails): nothing to compare, nothing to change.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from kubeform.modules.base import Change, Fact, Run

SE_ARGS: dict[str, Any] = {k: {"type": "string"} for k in ("seuser", "serole", "setype", "selevel")}
_PARTS = ("seuser", "serole", "setype", "selevel")
_FLAGS = {"seuser": "-u", "serole": "-r", "setype": "-t", "selevel": "-l"}


def wanted(args: Mapping[str, Any]) -> dict[str, str]:
    """The context parts a task asks for (``_default`` means "leave as is" here)."""
    return {k: str(args[k]) for k in _PARTS if args.get(k) not in (None, "", "_default")}


def parse(out: str, rc: int) -> dict[str, str] | None:
    """``user:role:type:level`` -> parts; None when SELinux is off or the path is absent."""
    text = out.strip()
    if rc != 0 or not text or text == "?" or text.count(":") < 2 or "enabled=no" in text:
        return None
    user, role, kind, *rest = text.split(":")
    return {"seuser": user, "serole": role, "setype": kind, "selevel": ":".join(rest)}


def se_fact(path: str) -> Fact:
    """The path's label, probed only for tasks that ask for one."""
    q = shlex.quote(path)
    cmd = f"( if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then stat -L -c %C {q} 2>/dev/null; else echo enabled=no; fi )"
    return Fact(key=f"secontext:{path}", command=cmd, parse=parse)


def se_changes(path: str, args: Mapping[str, Any], facts: Mapping[str, Any], created: bool) -> list[Change]:
    """``chcon`` for the parts that differ (all asked parts for a path being created)."""
    want = wanted(args)
    if not want:
        return []
    cur = facts.get(f"secontext:{path}")
    if cur is None:
        return []  # SELinux off (or the path is new and the host has none): ignored as in Ansible
    diff = {k: v for k, v in want.items() if created or cur.get(k) != v}
    if not diff:
        return []
    flags = " ".join(f"{_FLAGS[k]} {shlex.quote(v)}" for k, v in diff.items())
    notes = ", ".join(f"{k} {cur.get(k, '-')} -> {v}" for k, v in diff.items())
    return [Change("change", f"{path}: {notes}", (Run(f"chcon {flags} {shlex.quote(path)}"),))]
