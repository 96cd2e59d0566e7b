"""Verbs lab: local lab clusters (systemd-nspawn machines in network namespaces).

``kubeform lab up`` makes a multi-host site on one Linux machine, the same shape as the
Vagrant lab, so ``kubeform up`` can be tried and tested without VMs.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from kubeform.lab.plan import DEFAULT_HOSTS, DEFAULT_NAME, DEFAULT_SUBNET


def _console() -> Console:
    """Wide enough for full boot ids when the output is a pipe or a log, not a terminal."""
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


def _uptime(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m{s % 60:02d}s" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _print_status(name: str, console: Console) -> None:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    table = Table(title=f"kubeform lab {name}")
    for col in ("host", "address", "groups", "state", "uptime", "boot id"):
        table.add_column(col)
    colours = {"running": "green", "partitioned": "yellow", "booting": "cyan", "stopped": "red"}
    for row in manager.status(name):
        colour = colours.get(row.state, "white")
        table.add_row(
            row.name,
            row.address,
            ",".join(row.groups),
            f"[{colour}]{row.state}[/{colour}]",
            _uptime(row.uptime),
            row.boot_id or "-",
        )
    console.print(table)


def cmd_up(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    console = _console()
    started = time.monotonic()
    st, inventory = manager.up(
        hosts=args.hosts, name=args.name, subnet=args.subnet, rebuild=args.rebuild,
        console=console,
    )
    _print_status(st.name, console)
    console.print(
        f"lab {st.name!r} up in {time.monotonic() - started:.1f} s; inventory: {inventory}"
    )
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    started = time.monotonic()
    actions = manager.down(args.name)
    removed = sum(1 for a in actions if a.kind != "rmtree")
    _console().print(
        f"lab {args.name!r} removed ({removed} pieces) in {time.monotonic() - started:.1f} s"
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    _print_status(args.name, _console())
    return 0


def cmd_ssh(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    argv = manager.ssh_command(args.name, args.host, args.command)
    os.execvp(argv[0], argv)
    return 1  # not reached


def cmd_reboot(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    old, new = manager.reboot(args.name, args.host, wait=not args.no_wait)
    msg = f"{args.host} rebooted (boot id {old} -> {new})" if new else f"{args.host} rebooting"
    _console().print(msg)
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    manager.stop(args.name, args.host)
    _console().print(f"{args.host} stopped")
    return 0


def cmd_start(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    manager.start(args.name, args.host)
    _console().print(f"{args.host} running")
    return 0


def cmd_partition(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    manager.set_partition(args.name, args.host, cut=True)
    _console().print(f"{args.host} partitioned (its network is cut)")
    return 0


def cmd_heal(args: argparse.Namespace) -> int:
    from kubeform.lab import manager  # lazy: the CLI starts without it
    manager.set_partition(args.name, args.host, cut=False)
    _console().print(f"{args.host} healed (its network is back)")
    return 0


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``kubeform lab VERB`` to the top-level parser."""
    lab = sub.add_parser(
        "lab",
        help="local lab hosts: systemd-nspawn machines on a private bridge (root)",
        description="A multi-host lab on this Linux machine: each host is a systemd-nspawn "
        "machine with systemd and sshd in its own network namespace, on 192.168.56.0/24.",
    )
    verbs = lab.add_subparsers(dest="lab_verb", metavar="VERB", required=True)

    def verb(name: str, func: Any, help_text: str, host: bool = False) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = verbs.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--name", default=DEFAULT_NAME, help=f"lab name (default {DEFAULT_NAME})")
        if host:
            p.add_argument("host", metavar="HOST", help="a lab host, e.g. kf-node1")
        p.set_defaults(func=func)
        return p

    p = verb("up", cmd_up, "make (or converge) a lab; builds the base image the first time")
    p.add_argument("--hosts", type=int, default=DEFAULT_HOSTS,
                   help="how many hosts (default 3: one master+etcd, two nodes; 5: three etcd)")
    p.add_argument("--subnet", default=DEFAULT_SUBNET, help=f"lab network (default {DEFAULT_SUBNET})")
    p.add_argument("--rebuild", action="store_true", help="rebuild the base image first")
    verb("down", cmd_down, "remove every machine, namespace, link and mount of a lab")
    verb("status", cmd_status, "show each host: address, state, uptime, boot id")
    p = verb("ssh", cmd_ssh, "ssh to a lab host as root (lab key, verified host key)", host=True)
    p.add_argument("command", nargs=argparse.REMAINDER, help="command to run (default: a shell)")
    p = verb("reboot", cmd_reboot, "reboot a host from inside; waits for its new boot", host=True)
    p.add_argument("--no-wait", action="store_true", help="return once the reboot started")
    verb("stop", cmd_stop, "power a host off hard (a dead node)", host=True)
    verb("start", cmd_start, "start a stopped host and wait for SSH", host=True)
    verb("partition", cmd_partition, "cut a host's network (link down)", host=True)
    verb("heal", cmd_heal, "restore a partitioned host's network", host=True)
