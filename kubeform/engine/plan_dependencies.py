"""Check mode's dependency inference: which tasks cannot be planned honestly.

In check mode nothing runs, so a task whose input is the registered result of a task
that would change (or did not run), or a handler notified by a change, would be planned
against a state the host will not have. Such a task is reported as
``depends on <task> (would change)`` instead of being planned. A task that fails to plan
after an earlier task would change is treated the same way: the earlier change may be
what it needs (a package that installs the file it edits).

Pure bookkeeping per host; the host run asks and records, nothing here talks to a host.
"""

from __future__ import annotations

from kubeform.engine import templating
from kubeform.engine.playbook import Task

Blocker = tuple[str, bool]
"""(the task whose result is unknown, whether it would change)."""


def depends_message(blocker: Blocker) -> str:
    task, would_change = blocker
    return f"depends on {task} ({'would change' if would_change else 'not run in plan'})"


def task_reads(task: Task) -> set[str]:
    """Every variable name the task's templates and expressions read."""
    names: set[str] = set()
    for value in task.templates().values():
        names |= templating.referenced_names(value)
    for exprs in task.expressions().values():
        names |= templating.referenced_names(list(exprs), expression=True)
    return names


class PlanDependencies:
    """Registered names whose value check mode cannot know, and the tasks that would change."""

    def __init__(self) -> None:
        self.pending: dict[str, Blocker] = {}  # registered var -> its blocker
        self.would_change: list[str] = []  # tasks that would change, in order
        self.registered: set[str] = set()  # every name a planned task registered

    def judges_only_known_values(self, task: Task) -> bool:
        """An ``assert``/``fail`` that reads no registered result: it judges facts and
        variables an earlier change does not alter, so its failure is real in a plan too
        (kubespray's 'Stop if non systemd OS type'); one that reads a result (a ``stat``
        of a file an earlier task creates) may be failing only because of the plan."""
        if task.action not in ("assert", "fail"):
            return False
        names = templating.referenced_names(task.args) if isinstance(task.args, dict) else set()
        for exprs in task.expressions().values():
            names |= templating.referenced_names(list(exprs), expression=True)
        for n in list(names):  # one level through the task's variables (role vars, task vars)
            if n in task.vars:
                names |= templating.referenced_names(task.vars[n])
        return not (names & self.registered)

    def blocker_of(self, task: Task, base_dir: str | None = None) -> Blocker | None:
        """The blocker of the first unknown registered name the task reads (its template
        file included, found from ``base_dir``), if any."""
        if not self.pending:
            return None
        from kubeform.engine.play_checks import template_file_names

        for n in sorted(task_reads(task) | template_file_names(task, base_dir)):
            if n in self.pending:
                return self.pending[n]
        return None

    def failure_blocker(self) -> Blocker | None:
        """A failed plan after an earlier change depends on that change (not a failure yet)."""
        return (self.would_change[-1], True) if self.would_change else None

    def mark_unknown(self, register: str | None, blocker: Blocker) -> None:
        if register:
            self.pending[register] = blocker

    def mark_task_unknown(self, task: Task, blocker: Blocker) -> None:
        """A task not planned: what it registers and the facts it sets are unknown too, so
        the tasks reading them depend on the same change (not fail on an undefined name)."""
        self.mark_unknown(task.register, blocker)
        if task.action == "set_fact" and isinstance(task.args, dict):
            for key in task.args:
                if isinstance(key, str) and key != "cacheable" and not templating.is_template(key):
                    self.pending[key] = blocker

    def planned(self, name: str, register: str | None, status: str, would_run: bool) -> None:
        """A task was planned: its registered value is unknown when its steps did not run."""
        if register:
            self.registered.add(register)
        if register and would_run:
            self.pending[register] = (name, status == "changed")
        if status == "changed":
            self.would_change.append(name)

