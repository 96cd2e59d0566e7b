"""Time ``kubeform up`` on a lab: first run from bare hosts, then the idempotent re-run.

Run as root: ``python bench/up.py [--hosts 3|5]``. Uses its own lab (kfbup,
192.168.62.0/24) and removes it at the end, also on failure. ``up`` is run the way the
CLI runs it (plan every host, then apply), in-process so each play can be timed: a
reporter notes when each play starts, so the split is per play (Prepare hosts, etcd
cluster, Overlay network config, Runtime and node agent) for the plan and the apply.
Targets on 3 hosts: re-run under 10 s, first run under 90 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from kubeform.bootstrap.cluster_plan import PLAYBOOK_DIR, cluster_plan, prepare
from kubeform.engine.playbook import Play, load_playbook
from kubeform.engine.runner import NullReporter, Options, run_playbook
from kubeform.inventory.loader import load_inventory
from kubeform.lab import manager
from kubeform.transport.pool import ConnectionPool

NAME = "kfbup"
SUBNET = "192.168.62.0/24"


class PlayClock(NullReporter):
    """A reporter that records when each play starts; durations are the gaps."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def play_start(self, play: Play, hosts: Sequence[str]) -> None:
        self.marks.append((play.name, time.monotonic()))

    def split(self, end: float) -> list[tuple[str, float]]:
        rows = []
        for i, (name, start) in enumerate(self.marks):
            stop = self.marks[i + 1][1] if i + 1 < len(self.marks) else end
            rows.append((name, stop - start))
        return rows


def up_once(inventory_path: Path, workdir: Path) -> tuple[float, list[tuple[str, float]], int]:
    """One `kubeform up -y`: (wall seconds, per-play rows, changed task count)."""
    started = time.monotonic()
    inventory = load_inventory(str(inventory_path))
    plan = cluster_plan(inventory)
    _, extra = prepare(plan, workdir / ".kubeform" / plan.name)
    playbook = load_playbook(str(PLAYBOOK_DIR / "site.yml"))
    rows: list[tuple[str, float]] = []
    with ConnectionPool() as pool:
        t0 = time.monotonic()
        rows.append(("prepare (cluster dir, certificates)", t0 - started))
        clock = PlayClock()
        planned = run_playbook(playbook, inventory, Options(check=True, diff=True, extra_vars=extra), pool, clock)
        t1 = time.monotonic()
        rows += [(f"plan: {name}", s) for name, s in clock.split(t1)]
        if planned.failed:
            raise SystemExit(f"plan failed: {planned.errors} {planned.recap()}")
        changed = 0
        if planned.plan().has_changes:
            clock = PlayClock()
            applied = run_playbook(playbook, inventory, Options(extra_vars=extra), pool, clock)
            t2 = time.monotonic()
            rows += [(f"apply: {name}", s) for name, s in clock.split(t2)]
            if applied.failed:
                raise SystemExit(f"apply failed: {applied.errors} {applied.recap()}")
            changed = sum(1 for r in applied.results if r.changed)
    return time.monotonic() - started, rows, changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    try:
        manager.down(NAME)
        started = time.monotonic()
        st, _ = manager.up(hosts=args.hosts, name=NAME, subnet=SUBNET, rebuild=False, console=Console(quiet=True))
        print(f"lab up ({args.hosts} hosts): {time.monotonic() - started:.1f} s")
        inventory = Path(st.directory) / "inventory.yml"
        with tempfile.TemporaryDirectory() as tmp:
            for label in ("first run", "re-run"):
                total, rows, changed = up_once(inventory, Path(tmp))
                console.print(f"[bold]kubeform up, {label}: {total:.1f} s[/] ({changed} tasks changed)")
                for name, seconds in rows:
                    print(f"  {name:<48} {seconds:6.2f} s")
    finally:
        manager.down(NAME)
        subprocess.run([sys.executable, "-m", "kubeform", "lab", "down", "--name", NAME],
                       capture_output=True, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
