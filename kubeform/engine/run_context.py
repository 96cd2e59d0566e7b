"""What the host runs of one play share: the command-line options, where progress is
reported, the connection pool, the module resolver, and the few things they write
together under a lock (``hostvars`` as facts arrive, the play's user errors).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubeform.engine.host_connection import ConnectionSource
from kubeform.engine.plan_dependencies import PlanDependencies
from kubeform.engine.playbook import ModuleResolver, Play, Playbook
from kubeform.engine.results import TaskResult
from kubeform.errors import UserError
from kubeform.inventory.model import Inventory
from kubeform.modules.base import Fact


@dataclass
class Options:
    """Run options from the command line."""

    check: bool = False
    diff: bool = False
    forks: int = 10
    limit: str | None = None
    tags: frozenset[str] = frozenset()
    skip_tags: frozenset[str] = frozenset()
    extra_vars: Mapping[str, Any] = field(default_factory=dict)


class Reporter(Protocol):
    """Receives progress events from host threads (implementations lock themselves)."""

    def play_start(self, play: Play, hosts: Sequence[str]) -> None: ...

    def task_start(self, host: str, task: str) -> None: ...

    def task_done(self, result: TaskResult) -> None: ...

    def host_done(self, host: str) -> None: ...


class NullReporter:
    """A reporter that ignores everything (tests, ``--json``)."""

    def play_start(self, play: Play, hosts: Sequence[str]) -> None:
        pass

    def task_start(self, host: str, task: str) -> None:
        pass

    def task_done(self, result: TaskResult) -> None:
        pass

    def host_done(self, host: str) -> None:
        pass


@dataclass
class PlayShared:
    """What every host run of one play shares (read-only, or locked)."""

    playbook: Playbook
    play: Play
    options: Options
    pool: ConnectionSource
    reporter: Reporter
    resolver: ModuleResolver
    inventory: Inventory
    hosts: list[str]
    hostvars: dict[str, dict[str, Any]]
    system_fact: Fact | None
    needs_system_facts: bool
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Per host, kept across the plays of one run (each host's entry is written by its own run only).
    registered: dict[str, dict[str, Any]] = field(default_factory=dict)
    system_facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, PlanDependencies] = field(default_factory=dict)
    playbook_vars: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # group_vars/host_vars beside the playbook
    # The same per host as (group_vars/all, its other groups, host_vars), for the precedence.
    playbook_layers: Mapping[str, tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]]] = field(default_factory=dict)
    new_groups: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)  # group_by: group -> (hosts, parents)

    def user_error(self, err: UserError) -> str:
        text = str(err)
        with self.lock:
            if text not in self.errors:
                self.errors.append(text)
        return text
