"""Verbs up, down (reset): bootstrap or reset a cluster on an inventory's hosts.

``up`` prepares the cluster directory (CA, certificates, flannel config) on the operator's
machine, plans playbooks/site.yml on every host, shows the plan, asks, then applies it.
``down`` does the same with playbooks/reset.yml. Both reuse the engine's run machinery,
so what they show and do is exactly what ``kubeform plan/run`` would for those playbooks.

When the inventory's etcd group grew, ``up`` first joins the new members one at a time
(the engine has no ``serial``): site.yml with ``-t etcd -l NEW_MEMBER`` per new member,
each recorded in cluster.yml once it runs healthy, then the usual run on every host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubeform.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from kubeform.bootstrap.cluster_plan import EtcdMembership
    from kubeform.bootstrap.clusterdir import ClusterDir

#: Seconds per etcd endpoint when writing the built-in objects from the operator's side.
BUILTINS_TIMEOUT = 5.0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("inventory", metavar="INVENTORY", help="inventory file or directory")
    p.add_argument("-y", "--yes", action="store_true", help="apply without asking")
    p.add_argument("--plan", action="store_true", help="show the plan and stop")
    p.add_argument(
        "--cluster", metavar="DIR", help="cluster directory (default .kubeform/<cluster name>)"
    )
    p.add_argument("-l", "--limit", metavar="PATTERN", help="only hosts matching PATTERN")
    p.add_argument(
        "-t",
        "--tags",
        action="append",
        default=[],
        metavar="TAGS",
        help="only tasks with these tags",
    )
    p.add_argument(
        "-f", "--forks", type=int, default=10, metavar="N", help="hosts in parallel (default 10)"
    )
    p.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="VARS",
        help="key=value or @file.yml",
    )
    p.add_argument(
        "--trust-new-hosts", action="store_true", help="accept and record unknown SSH host keys"
    )
    p.add_argument(
        "--known-hosts", metavar="FILE", help="known_hosts file for host-key verification"
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail")


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``up`` and ``down``/``reset`` to the top-level parser."""
    up = sub.add_parser(
        "up",
        help="bootstrap a cluster on the inventory's hosts (plan, confirm, apply)",
        description="Prepare hosts, start etcd with TLS, write the flannel config, install the runtime "
        "and the node agent: playbooks/site.yml. Shows the plan first.",
    )
    _common(up)
    up.set_defaults(func=cmd_up, playbook="site.yml", action="apply")
    down = sub.add_parser(
        "down",
        aliases=["reset"],
        help="undo kubeform up on the inventory's hosts (services, devices, rules, etcd data)",
        description="Stop and remove the agent and etcd, delete overlay devices and rules, wipe etcd data: "
        "playbooks/reset.yml. Shows the plan first and asks.",
    )
    _common(down)
    down.set_defaults(func=cmd_up, playbook="reset.yml", action="reset")


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UserError(
            "refusing to apply without confirmation on a non-interactive input", hint="pass -y"
        )
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in {"y", "yes"}


def _builtins(cd: ClusterDir, console: Console, styled: bool) -> None:
    """Default namespaces and the ``kubernetes`` Service, once etcd answers.

    Written from the operator's machine with the admin certificate (through the SSH
    tunnel when cluster.yml names one). When etcd cannot be reached from here the hosts
    are still fine: say so and let the next ``up`` (or ``apply``) finish the job.
    """
    from kubeform.engine.progress import print_lines
    from kubeform.store.applier import ensure_builtins
    from kubeform.store.client import Store

    try:
        created = ensure_builtins(Store.from_cluster(cd, timeout=BUILTINS_TIMEOUT))
    except UserError as err:
        print_lines(
            console,
            [("yellow", f"note: built-in objects (default namespaces, the kubernetes Service) not written: "
            f"{err.message}. Run `kubeform up` again once etcd is reachable from here, or set "
            f"ssh_tunnel in {cd.path / 'cluster.yml'}.")],
            styled=styled,
        )
        return
    if created:
        names = ", ".join(p.ref for p in created)
        print_lines(console, [("green", f"Built-in objects created: {names}")], styled=styled)


def growth_note(membership: EtcdMembership) -> str:
    """The plan's line about new etcd members: who joins whom, and in which order."""
    new = ", ".join(membership.joining)
    running = ", ".join(membership.members)
    return (
        f"etcd: {new} will be added to the running cluster ({running}) one at a time: "
        "etcdctl member add, then the member starts with --initial-cluster-state=existing "
        "and must be healthy before the next is added."
    )


def cmd_up(args: argparse.Namespace) -> int:
    """Prepare, plan, confirm, apply; exit 0 on success (also when nothing changes)."""
    from rich.console import Console

    from kubeform.bootstrap.cluster_plan import (
        PLAYBOOK_DIR,
        EtcdMembership,
        cluster_plan,
        default_cluster_dir,
        membership_of,
        prepare,
        record_members,
    )
    from kubeform.engine.connection_vars import resolve_connection_vars
    from kubeform.engine.extra_vars import parse_extra_vars
    from kubeform.engine.playbook import load_playbook
    from kubeform.engine.progress import LiveReporter, PlainReporter, print_lines
    from kubeform.engine.recap import print_recap
    from kubeform.engine.render import plan_lines
    from kubeform.engine.runner import NullReporter, Options, Reporter, run_playbook
    from kubeform.inventory.loader import load_inventory
    from kubeform.transport.pool import ConnectionPool

    inventory = load_inventory(args.inventory)
    resolve_connection_vars(inventory, {})
    plan = cluster_plan(inventory)
    cluster_dir = Path(args.cluster) if args.cluster else default_cluster_dir(plan.name)
    resetting = args.action != "apply"
    cd, cluster_vars = prepare(plan, cluster_dir, resetting=resetting)
    membership = (
        EtcdMembership(members=tuple(h.name for h in plan.etcd), joining=())
        if resetting
        else membership_of(plan, cd)
    )
    growing = bool(membership.joining)
    extra = {**cluster_vars, **parse_extra_vars(args.extra_vars)}
    playbook = load_playbook(str(PLAYBOOK_DIR / args.playbook))
    tags = frozenset(t.strip() for v in args.tags for t in v.split(",") if t.strip())

    console = Console(highlight=False, soft_wrap=True)
    styled = console.is_terminal

    def options(check: bool) -> Options:
        return Options(
            check=check, diff=check, forks=args.forks, limit=args.limit, tags=tags, extra_vars=extra
        )

    with ConnectionPool(known_hosts=args.known_hosts, trust_new_hosts=args.trust_new_hosts) as pool:
        planned = run_playbook(playbook, inventory, options(True), pool, NullReporter())
        print_lines(console, plan_lines(planned, verbose=args.verbose > 0), styled=styled)
        for err in planned.errors:
            print(f"kubeform: error: {err}", file=sys.stderr)
        if planned.failed:
            print_recap(planned.recap(), console, rich_output=styled)
            return 1
        if growing:
            print_lines(console, [("yellow", growth_note(membership))], styled=styled)
        if args.plan:
            return 0
        if not planned.plan().has_changes and not growing:
            print_lines(
                console, [("green", f"Cluster {plan.name}: nothing to change.")], styled=styled
            )
            if args.action == "apply":
                record_members(cd, [h.name for h in plan.etcd])
                _builtins(cd, console, styled)
            else:
                record_members(cd, [])
            return 0
        verb = (
            "Apply"
            if args.action == "apply"
            else "Reset the cluster on these hosts (etcd data is deleted)"
        )
        if not args.yes and not _confirm(f"{verb}?"):
            print("Nothing applied.")
            return 1
        reporter: Reporter
        if styled:
            reporter = LiveReporter(console, diff=False, verbose=args.verbose > 0, check=False)
        else:
            reporter = PlainReporter(console, diff=False, verbose=args.verbose > 0)
        try:
            joined = list(membership.members)
            for step, name in enumerate(membership.joining, 1):
                print_lines(
                    console,
                    [("bold", f"etcd: adding member {name} ({step} of {len(membership.joining)})")],
                    styled=styled,
                )
                join = Options(
                    forks=args.forks, limit=name, tags=frozenset({"etcd"}), extra_vars=extra
                )
                result = run_playbook(playbook, inventory, join, pool, reporter)
                if result.failed:
                    break
                joined.append(name)
                record_members(cd, joined)
            else:
                result = run_playbook(playbook, inventory, options(False), pool, reporter)
        finally:
            close = getattr(reporter, "close", None)
            if close is not None:
                close()
    print_recap(result.recap(), console, rich_output=styled)
    for err in result.errors:
        print(f"kubeform: error: {err}", file=sys.stderr)
    if result.failed:
        print(
            "kubeform: the run stopped with failures; what ran before them stays applied. "
            "Fix the cause and run it again (every step is idempotent).",
            file=sys.stderr,
        )
        return 1
    if args.action != "apply":
        # etcd's data is gone: the next up founds the cluster again (all members new).
        record_members(cd, [])
        return 0
    record_members(cd, [h.name for h in plan.etcd])
    _builtins(cd, console, styled)
    print_lines(
        console,
        [
            ("green", f"Cluster {plan.name} is up. Cluster directory: {cluster_dir}"),
            ("", f"Try: kubeform get nodes --cluster {cluster_dir}"),
        ],
        styled=styled,
    )
    return 0
