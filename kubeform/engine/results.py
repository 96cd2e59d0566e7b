"""What a run produced, per host and task: the data every output (plan, recap, JSON) reads.

Results are plain data so rendering is a pure function of them. Secrets are masked
when a result is made, not when it is printed: a diff marked secret (or a task with
``no_log``) never holds the clear text past this point, so no output path can leak it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from kubeform.modules.base import Change, Diff

Status = Literal["ok", "changed", "failed", "skipped", "unreachable", "depends"]
RECAP_KEYS = ("ok", "changed", "unreachable", "failed", "skipped", "rescued", "ignored")


_ALREADY_HASHED = re.compile(
    r"^(?:(?:secret|binary) content \(sha256 [0-9a-f]{64}\)|\(secret (?:hmac-)?sha256:[0-9a-f]{12}, \d+ bytes\))\n?$"
)

# Keyed per run: a plan's before and after stay comparable, but a short secret (a
# password) cannot be looked up from its hash in a log, as a plain sha256 could be.
_RUN_KEY = os.urandom(32)


def secret_summary(text: str | None) -> str | None:
    """A secret shown as a short hash and its length, never its content.

    A module may already have replaced the secret by its hash (the file modules do);
    text that is exactly such a summary is kept, anything else is hashed here.
    """
    if text is None:
        return None
    if _ALREADY_HASHED.match(text):
        return text.rstrip("\n")
    data = text.encode("utf-8", "surrogateescape")
    digest = hmac.new(_RUN_KEY, data, hashlib.sha256).hexdigest()[:12]
    return f"(secret hmac-sha256:{digest}, {len(data)} bytes)"


@dataclass(frozen=True)
class DiffView:
    """A diff ready to show: secrets already replaced by hash and length."""

    label: str
    before: str | None
    after: str | None
    secret: bool = False

    @staticmethod
    def of(diff: Diff, *, hide: bool = False) -> DiffView:
        if diff.secret or hide:
            return DiffView(diff.label, secret_summary(diff.before), secret_summary(diff.after), True)
        return DiffView(diff.label, diff.before, diff.after, False)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "before": self.before, "after": self.after, "secret": self.secret}


@dataclass(frozen=True)
class ChangeView:
    """One planned or applied change: what, how (step descriptions) and its diff."""

    action: str
    summary: str
    steps: tuple[str, ...] = ()
    diff: DiffView | None = None

    @staticmethod
    def of(change: Change, *, hide: bool = False, label: str | None = None) -> ChangeView:
        summary = change.summary if label is None else f"{change.summary} ({label})"
        return ChangeView(
            action=change.action,
            summary=summary,
            steps=() if hide else tuple(s.describe() for s in change.steps),
            diff=None if change.diff is None else DiffView.of(change.diff, hide=hide),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "summary": self.summary,
            "steps": list(self.steps),
            "diff": None if self.diff is None else self.diff.as_dict(),
        }


@dataclass(frozen=True)
class TaskResult:
    """The outcome of one task (all its loop items) on one host."""

    host: str
    play: str
    task: str
    status: Status
    location: str = ""  # file:line of the task
    changes: tuple[ChangeView, ...] = ()
    msg: str = ""
    ignored: bool = False  # failed, but ignore_errors
    rescued: bool = False  # failed, and a rescue section ran
    depends_on: str | None = None
    blocked_by_change: bool = False  # depends on a task that would change (counts as a change)
    handler: bool = False
    items: tuple[str, ...] = ()  # per-item one-line outcomes for loops
    output: bool = False  # msg is what the task is for (debug): shown without -v

    @property
    def changed(self) -> bool:
        return self.status == "changed"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "task": self.task,
            "play": self.play,
            "location": self.location,
            "status": self.status,
            "changed": self.changed,
            "msg": self.msg,
            "changes": [c.as_dict() for c in self.changes],
            "diff": [c.diff.as_dict() for c in self.changes if c.diff is not None],
        }
        if self.ignored:
            out["ignored"] = True
        if self.rescued:
            out["rescued"] = True
        if self.depends_on:
            out["depends_on"] = self.depends_on
        if self.handler:
            out["handler"] = True
        if self.items:
            out["items"] = list(self.items)
        return out


def recap(results: Iterable[TaskResult], hosts: Iterable[str] = ()) -> dict[str, dict[str, int]]:
    """Per host: Ansible's recap counts (``ok`` counts changed tasks too, as Ansible does)."""
    out: dict[str, Counter[str]] = {h: Counter() for h in hosts}
    for r in results:
        c = out.setdefault(r.host, Counter())
        if r.status in ("ok", "changed"):
            c["ok"] += 1
        if r.status == "changed":
            c["changed"] += 1
        if r.status == "skipped":
            c["skipped"] += 1
        if r.status == "unreachable":
            c["unreachable"] += 1
        if r.status == "failed":
            if r.ignored:
                c["ignored"] += 1
            elif r.rescued:
                c["rescued"] += 1
            else:
                c["failed"] += 1
    return {h: {k: c.get(k, 0) for k in RECAP_KEYS} for h, c in out.items()}


@dataclass
class PlanSummary:
    """Counts for the Terraform-style summary line."""

    add: int = 0
    change: int = 0
    remove: int = 0
    hosts: int = 0
    depends: int = 0

    def line(self) -> str:
        hosts = f"{self.hosts} host" + ("" if self.hosts == 1 else "s")
        text = f"Plan: {self.add} to add, {self.change} to change, {self.remove} to remove, on {hosts}."
        if self.depends:
            text += f" {self.depends} task(s) depend on earlier changes."
        return text

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.remove or self.depends)


def plan_summary(results: Iterable[TaskResult], hosts: Iterable[str]) -> PlanSummary:
    """Count planned changes by action over every host that was planned."""
    s = PlanSummary(hosts=len(set(hosts)))
    for r in results:
        if r.status == "depends" and r.blocked_by_change:
            s.depends += 1
        if r.status != "changed":
            continue
        for c in r.changes:
            if c.action == "add":
                s.add += 1
            elif c.action == "remove":
                s.remove += 1
            else:
                s.change += 1
        if not r.changes:  # changed_when or a module reporting a change without detail
            s.change += 1
    return s


@dataclass
class RunResult:
    """Everything a run produced; the CLI turns it into output and an exit code."""

    results: list[TaskResult] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # user errors found while running
    check: bool = False
    warnings: list[str] = field(default_factory=list)  # e.g. a host pattern term that matches nothing

    def recap(self) -> dict[str, dict[str, int]]:
        return recap(self.results, self.hosts)

    def plan(self) -> PlanSummary:
        return plan_summary(self.results, self.hosts)

    @property
    def failed(self) -> bool:
        counts = self.recap()
        return bool(self.errors) or any(c["failed"] or c["unreachable"] for c in counts.values())

    def as_dict(self) -> dict[str, Any]:
        recaps = self.recap()
        hosts: dict[str, Any] = {h: {"recap": recaps.get(h, {}), "tasks": []} for h in self.hosts}
        for r in self.results:
            hosts.setdefault(r.host, {"recap": recaps.get(r.host, {}), "tasks": []})["tasks"].append(r.as_dict())
        plan = self.plan()
        out: dict[str, Any] = {
            "check": self.check,
            "ok": not self.failed,
            "hosts": hosts,
            "errors": list(self.errors),
        }
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.check:
            out["plan"] = {"add": plan.add, "change": plan.change, "remove": plan.remove, "hosts": plan.hosts, "depends": plan.depends}
        return out
