"""Verbs run, plan: playbooks against an inventory.

``run`` applies (or with ``--check`` plans) a playbook; ``plan`` is ``run --check
--diff`` with the plan printed as one readable diff and a Terraform-style summary line.
Exit codes: 0 success, 1 error / failed / unreachable host; with ``--detailed-exitcode``
a plan exits 0 when nothing would change and 2 when something would.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubeform.errors import UserError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("playbook", metavar="PLAYBOOK", help="playbook YAML file")
    p.add_argument("-i", "--inventory", required=True, metavar="INVENTORY", help="inventory file or directory (YAML or INI)")
    p.add_argument("-l", "--limit", metavar="PATTERN", help="only hosts matching PATTERN (also @file)")
    p.add_argument("-t", "--tags", action="append", default=[], metavar="TAGS", help="only tasks with these tags (comma-separated, repeatable)")
    p.add_argument("--skip-tags", action="append", default=[], metavar="TAGS", help="skip tasks with these tags")
    p.add_argument("-f", "--forks", type=int, default=10, metavar="N", help="hosts in parallel (default 10)")
    p.add_argument("-e", "--extra-vars", action="append", default=[], metavar="VARS", help="key=value, YAML/JSON mapping, or @file.yml (highest precedence)")
    p.add_argument("--json", action="store_true", help="print a machine-readable result instead of progress")
    p.add_argument("--trust-new-hosts", action="store_true", help="accept and record unknown SSH host keys (changed keys are still refused)")
    p.add_argument("--known-hosts", metavar="FILE", help="known_hosts file to verify (and record) host keys")
    p.add_argument("--detailed-exitcode", action="store_true", help="exit 0 when nothing changes/would change, 2 when something does, 1 on error")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail (steps, loop items, locations)")
    p.add_argument("--check-all", action="store_true", help="list every mistake found before connecting (not only the first), then stop if there was one")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``run`` and ``plan`` to the top-level parser."""
    run = sub.add_parser(
        "run", help="apply a playbook to an inventory (with --image: run a pod, as kubectl run)",
        description="Run a playbook: hosts in parallel, tasks in order per host. "
        "(`kubeform run NAME --image=IMAGE` runs a pod instead, as kubectl run: see its --help.)",
    )
    _common(run)
    run.add_argument("-C", "--check", action="store_true", help="plan only: change nothing on any host")
    run.add_argument("-D", "--diff", action="store_true", help="show the diff of every change")
    run.set_defaults(func=cmd_run, plan=False)
    plan = sub.add_parser("plan", help="show what a playbook would change, as a diff", description="Plan a playbook: connect, gather the facts the tasks need, print what would change. Changes nothing.")
    _common(plan)
    plan.set_defaults(func=cmd_run, plan=True, check=True, diff=True)


def _split(values: list[str]) -> frozenset[str]:
    return frozenset(t.strip() for v in values for t in v.split(",") if t.strip())


def cmd_run(args: argparse.Namespace) -> int:
    """Load everything, run or plan, print, and turn the outcome into an exit code."""
    from rich.console import Console

    from kubeform.engine.connection_vars import resolve_connection_vars
    from kubeform.engine.extra_vars import parse_extra_vars
    from kubeform.engine.playbook import load_playbook
    from kubeform.engine.progress import LiveReporter, PlainReporter, print_lines
    from kubeform.engine.recap import print_recap
    from kubeform.engine.render import plan_lines, summary_line
    from kubeform.engine.runner import (
        NullReporter,
        Options,
        Reporter,
        run_playbook,
        static_problems,
    )
    from kubeform.inventory.loader import load_inventory
    from kubeform.transport.pool import ConnectionPool

    if args.forks < 1:
        raise UserError("must be at least 1", field="--forks")
    check = bool(args.check or args.plan)
    options = Options(
        check=check,
        diff=bool(args.diff),
        forks=args.forks,
        limit=args.limit,
        tags=_split(args.tags),
        skip_tags=_split(args.skip_tags),
        extra_vars=parse_extra_vars(args.extra_vars),
    )
    inventory = load_inventory(args.inventory)
    resolve_connection_vars(inventory, options.extra_vars)
    if args.check_all:
        problems: list[UserError] = []
        playbook = load_playbook(args.playbook, collect=problems)
        problems += static_problems(playbook, inventory, options)
        problems.sort(key=lambda e: (e.file or "", e.line or 0))
        for problem in problems:
            print(f"kubeform: error: {problem}", file=sys.stderr)
        if problems:
            print(f"kubeform: {len(problems)} problem{'s' if len(problems) != 1 else ''} found", file=sys.stderr)
            return 1
    else:
        playbook = load_playbook(args.playbook)
    console = Console(highlight=False, soft_wrap=True)
    styled = console.is_terminal and not args.json
    reporter: Reporter
    if args.json or args.plan:
        reporter = NullReporter() if (args.json or not styled) else LiveReporter(Console(stderr=True), check=True)
    elif styled:
        reporter = LiveReporter(console, diff=options.diff, verbose=args.verbose > 0, check=check)
    else:
        reporter = PlainReporter(console, diff=options.diff, verbose=args.verbose > 0)
    pool = ConnectionPool(known_hosts=args.known_hosts, trust_new_hosts=args.trust_new_hosts)
    try:
        result = run_playbook(playbook, inventory, options, pool, reporter)
    finally:
        close = getattr(reporter, "close", None)
        if close is not None:
            close()
        pool.close_all()
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    elif args.plan:
        print_lines(console, plan_lines(result, verbose=args.verbose > 0), styled=styled)
        if result.failed:
            print_recap(result.recap(), console, rich_output=styled)
    else:
        print_recap(result.recap(), console, rich_output=styled)
        if check:
            print_lines(console, [summary_line(result.plan(), result.failed)], styled=styled)
    for err in result.errors:
        print(f"kubeform: error: {err}", file=sys.stderr)
    if result.failed:
        return 1
    if args.detailed_exitcode:
        if check:
            return 2 if result.plan().has_changes else 0
        return 2 if any(r.status == "changed" for r in result.results) else 0
    return 0
