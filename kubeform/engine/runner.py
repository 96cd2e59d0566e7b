"""Running a playbook: plays in order, each play's hosts in parallel on a thread pool.

The imperative shell around the pure parts. Before any connection it selects every
play's hosts and checks every name a template reads (``play_checks``); then, play by
play, each selected host gets a ``HostRun`` (``host_run``) on a thread pool of
``--forks`` workers. A host that failed or was unreachable takes no part in later plays.

In check mode (``plan``) nothing is executed; a task whose input depends on a task that
would change is reported as ``depends on <task> (would change)`` (``plan_dependencies``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubeform.engine.host_connection import ConnectionSource
from kubeform.engine.host_run import HostRun
from kubeform.engine.outcomes import truthy
from kubeform.engine.plan_dependencies import PlanDependencies
from kubeform.engine.play_checks import check_names, defined_names, play_needs_system_facts
from kubeform.engine.play_hosts import (
    add_groups,
    playbook_var_layers,
    playbook_vars,
    serial_batches,
    with_remote_user,
)
from kubeform.engine.playbook import ModuleResolver, Playbook
from kubeform.engine.results import RunResult
from kubeform.engine.run_context import NullReporter, Options, PlayShared, Reporter
from kubeform.errors import UserError
from kubeform.inventory.model import Host, Inventory
from kubeform.modules.base import Fact

__all__ = [
    "ConnectionSource", "HostSelector", "NullReporter", "Options", "Reporter",
    "pattern_warnings", "run_playbook", "select_play_hosts", "static_problems",
]  # fmt: skip

HostSelector = Callable[[Inventory, str, "str | None"], list[Host]]
"""``(inventory, pattern, limit) -> hosts`` (kubeform.inventory.patterns.select)."""


def _default_selector(inventory: Inventory, pattern: str, limit: str | None) -> list[Host]:
    from kubeform.inventory.patterns import select

    return select(inventory, pattern, limit)


def _default_system_fact() -> Fact | None:
    # Imported by name: the facts module lands separately and must not break this one.
    try:
        mod = importlib.import_module("kubeform.modules.facts")
    except ImportError:
        return None
    fact = getattr(mod, "SYSTEM_FACTS", None)
    return fact if isinstance(fact, Fact) else None


# -- the whole playbook -------------------------------------------------------------------


def select_play_hosts(
    playbook: Playbook, inventory: Inventory, options: Options, selector: HostSelector | None = None
) -> list[list[Host]]:
    """The hosts of every play (pattern, then ``--limit``); errors before any connection."""
    selector = selector or _default_selector
    return [selector(inventory, play.hosts, options.limit) for play in playbook.plays]


def pattern_warnings(playbook: Playbook, inventory: Inventory, options: Options) -> list[str]:
    """One line per term of a play's ``hosts`` or of ``--limit`` that names nothing.

    Not an error (Ansible only warns: an inventory may lack an optional group), but a
    typo in a group name would otherwise pass as "no hosts matched".
    """
    from kubeform.inventory.patterns import limit_terms, unmatched

    out: list[str] = []
    for play in playbook.plays:
        for term in unmatched(inventory, play.hosts):
            out.append(f"play '{play.name}': hosts pattern '{term}' matches no host or group")
    if options.limit is not None and options.limit.strip():
        for term in unmatched(inventory, limit_terms(options.limit)):
            out.append(f"--limit '{term}' matches no host or group")
    return list(dict.fromkeys(out))


def _warn_stderr(text: str) -> None:
    print(f"kubeform: warning: {text}", file=sys.stderr)


def _host_vars(
    host: Host, beside: tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any]] | None, facts: Mapping[str, Any]
) -> dict[str, Any]:
    """``hostvars[host]``: its variables in the order a task of it sees them, then its facts."""
    every, groups, own = beside or ({}, {}, {})
    return {**every, **host.vars, **groups, **host.own_vars, **own, **facts}


def _check_plays(
    playbook: Playbook, hosts_of: Sequence[Sequence[Host]], beside: Mapping[str, Mapping[str, Any]], options: Options,
    collect: list[UserError] | None = None,
) -> None:  # fmt: skip
    """The names every play reads are defined (before connecting); ``collect``: gather, not raise."""
    earlier: set[str] = {n for v in beside.values() for n in v}
    for play, hosts in zip(playbook.plays, hosts_of, strict=True):
        defined, complete = defined_names(play, playbook.base_dir)
        check_names(play, hosts, options.extra_vars, earlier, playbook.base_dir, collect)
        earlier |= defined
        if not complete:
            break  # an include_vars of a templated file: later names are only known at run time


def static_problems(
    playbook: Playbook, inventory: Inventory, options: Options, selector: HostSelector | None = None
) -> list[UserError]:
    """Every mistake found before connecting (``--check-all``): undefined names of every task."""
    found: list[UserError] = []
    pick = selector or _default_selector
    hosts_of = [pick(inventory, p.hosts, None) or list(inventory.hosts.values()) for p in playbook.plays]
    _check_plays(playbook, hosts_of, playbook_vars(Path(playbook.base_dir), inventory), options, found)
    return found


def run_playbook(
    playbook: Playbook,
    inventory: Inventory,
    options: Options,
    pool: ConnectionSource,
    reporter: Reporter | None = None,
    *,
    resolver: ModuleResolver | None = None,
    selector: HostSelector | None = None,
    system_fact: Fact | bool | None = True,
    warn: Callable[[str], None] | None = None,
) -> RunResult:
    """Run (or, with ``options.check``, plan) every play; never raises for host failures.

    ``system_fact`` True means "use kubeform.modules.facts.SYSTEM_FACTS when present".
    ``warn`` gets each warning line before the first play (default: stderr); they are
    also in ``RunResult.warnings``.
    UserErrors found before connecting (undefined names, bad host patterns) are raised.
    """
    if resolver is None:
        from kubeform.modules import lookup

        resolver = lookup
    reporter = reporter or NullReporter()
    fact: Fact | None = _default_system_fact() if system_fact is True else (system_fact or None)
    play_hosts = select_play_hosts(playbook, inventory, options, selector)
    if options.limit and options.limit.strip() and not any(play_hosts):
        # As ansible-playbook: a --limit that leaves nothing to do is a mistake, not a no-op.
        raise UserError(
            f"--limit '{options.limit}' matches no host of this playbook's plays", field="--limit"
        )
    # Names are checked against every host of the play's pattern, not only the --limit'ed
    # ones: a play left without hosts (or with fewer) must not make its variables "undefined".
    unlimited = play_hosts if not options.limit else [(selector or _default_selector)(inventory, p.hosts, None) for p in playbook.plays]
    grouping = any(t.action == "group_by" for p in playbook.plays for t in p.all_tasks())
    if grouping:  # a play of a group made by group_by has its hosts only at run time
        unlimited = [h or list(inventory.hosts.values()) for h in unlimited]
    beside = playbook_vars(Path(playbook.base_dir), inventory)
    beside_layers = playbook_var_layers(Path(playbook.base_dir), inventory)
    _check_plays(playbook, unlimited, beside, options)
    warnings = [] if grouping else pattern_warnings(playbook, inventory, options)
    out = RunResult(check=options.check, warnings=warnings)
    for text in out.warnings:
        (warn or _warn_stderr)(text)
    dead: set[str] = set()
    registered: dict[str, dict[str, Any]] = {}
    system_facts: dict[str, dict[str, Any]] = {}
    plans: dict[str, PlanDependencies] = {}
    regroup = False
    for play, hosts in zip(playbook.plays, play_hosts, strict=True):
        if regroup:  # group_by changed the groups: select this play's hosts again
            hosts = (selector or _default_selector)(inventory, play.hosts, options.limit)
        hosts = [with_remote_user(h, play.remote_user) for h in hosts if h.name not in dead]
        for h in hosts:
            if h.name not in out.hosts:
                out.hosts.append(h.name)
        names = [h.name for h in hosts]
        reporter.play_start(play, names)
        if not hosts:
            continue
        needs = play_needs_system_facts(play, hosts, options.extra_vars, playbook.base_dir)
        if needs and fact is None:
            raise UserError(
                "this play reads system facts (ansible_*), but the facts module is not installed",
                file=play.where.file, line=play.where.line,
            )
        shared = PlayShared(
            playbook=playbook, play=play, options=options, pool=pool, reporter=reporter,
            resolver=resolver, inventory=inventory, hosts=names,
            hostvars={n: _host_vars(h, beside_layers.get(n), system_facts.get(n, {})) for n, h in inventory.hosts.items()},
            system_fact=fact, needs_system_facts=needs, registered=registered, system_facts=system_facts, plans=plans,
            playbook_vars=beside, playbook_layers=beside_layers,
        )  # fmt: skip
        fatal = truthy(play.any_errors_fatal)
        for batch in serial_batches(hosts, play.serial):
            runs = [HostRun(shared, h) for h in batch]
            with ThreadPoolExecutor(max_workers=max(1, options.forks), thread_name_prefix="kubeform-host") as pool_ex:
                list(pool_ex.map(lambda r: r.run(), runs))
            for r in runs:
                out.results.extend(r.results)
                if r.failed or r.unreachable:
                    dead.add(r.host.name)
            if fatal and any(r.failed or r.unreachable for r in runs):
                dead |= {h.name for h in hosts}  # any_errors_fatal: no host goes on
                break
        for e in shared.errors:
            if e not in out.errors:
                out.errors.append(e)
        if shared.new_groups:
            regroup = add_groups(inventory, shared.new_groups) or regroup
    return out
