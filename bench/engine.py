"""Engine speed: N tasks x M hosts over SSH on loopback, first run and idempotent re-run.

Prints wall times (in-process engine time and the whole ``kubeform run`` command) and
the per-task overhead of an idempotent re-run. When ``ansible-playbook`` is on PATH (or
named by $ANSIBLE_PLAYBOOK; ``pip install ansible-core`` into any venv), the same
playbook runs under Ansible too and the ratio is printed. The target: an idempotent
re-run of 50 tasks x 3 hosts under 3 s and at least 5x faster than ansible-playbook.

Usage: python bench/engine.py [--tasks 50] [--hosts 3] [--forks 10]
Every file the playbook writes is under a temporary directory removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubeform.engine.playbook import load_playbook
from kubeform.engine.runner import Options, run_playbook
from kubeform.inventory.loader import load_inventory
from kubeform.transport.pool import ConnectionPool
from tests.sshd_server import start_sshd


def make_playbook(n: int) -> list[dict[str, object]]:
    """N tasks that Ansible and kubeform both understand, each idempotent."""
    tasks: list[dict[str, object]] = [
        {"name": "base dir", "file": {"path": "{{ root }}/bench", "state": "directory", "mode": "0755"}},
        {"name": "hosts file", "copy": {"dest": "{{ root }}/bench/hosts", "content": "127.0.0.1 localhost\n", "force": False}},
    ]
    i = 0
    while len(tasks) < n:
        kind = i % 4
        if kind == 0:
            tasks.append({"name": f"dir {i}", "file": {"path": f"{{{{ root }}}}/bench/d{i}", "state": "directory"}})
        elif kind == 1:
            tasks.append({
                "name": f"file {i}",
                "copy": {"dest": f"{{{{ root }}}}/bench/f{i}.conf", "content": f"key{i}={{{{ inventory_hostname }}}}\n", "mode": "0644"},
            })
        elif kind == 2:
            tasks.append({"name": f"line {i}", "lineinfile": {"path": "{{ root }}/bench/hosts", "line": f"10.1.0.{i} host{i}"}})
        else:
            tasks.append({
                "name": f"marker {i}",
                "command": f"touch {{{{ root }}}}/bench/m{i}",
                "args": {"creates": f"{{{{ root }}}}/bench/m{i}"},
            })
        i += 1
    return [{"name": "bench", "hosts": "all", "gather_facts": False, "tasks": tasks[:n]}]


def run_kubeform(playbook: Path, inventory: Path, forks: int) -> tuple[float, int]:
    """In-process engine wall time (connecting included) and changed count."""
    pb = load_playbook(playbook)
    inv = load_inventory(inventory)
    pool = ConnectionPool()
    start = time.perf_counter()
    try:
        result = run_playbook(pb, inv, Options(forks=forks), pool)
    finally:
        pool.close_all()
    elapsed = time.perf_counter() - start
    if result.failed:
        bad = [f"{r.host} {r.task}: {r.msg}" for r in result.results if r.status in ("failed", "unreachable")]
        raise SystemExit("kubeform run failed: " + "; ".join(bad[:5]))
    return elapsed, sum(c["changed"] for c in result.recap().values())


def run_cli(playbook: Path, inventory: Path, forks: int) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "kubeform", "run", str(playbook), "-i", str(inventory), "--forks", str(forks), "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"kubeform run (cli) failed: {proc.stderr[-500:]}")
    return elapsed


def run_ansible(binary: str, playbook: Path, inventory: Path, known_hosts: Path, forks: int) -> float:
    env = {
        **os.environ,
        "ANSIBLE_SSH_ARGS": f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_PYTHON_INTERPRETER": "auto_silent",
    }
    start = time.perf_counter()
    proc = subprocess.run(
        [binary, "-i", str(inventory), str(playbook), "--forks", str(forks)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit("ansible-playbook failed")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=50)
    ap.add_argument("--hosts", type=int, default=3)
    ap.add_argument("--forks", type=int, default=10)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kubeform-bench-"))
    server = start_sshd(work / "sshd", count=args.hosts)
    try:
        playbook = work / "bench.yml"
        playbook.write_text(yaml.safe_dump(make_playbook(args.tasks), sort_keys=False))
        inv = server.write_inventory(work / "inventory.yml", root=work / "kf")
        label = f"{args.tasks} tasks x {args.hosts} hosts (forks {args.forks})"
        print(f"kubeform engine bench: {label}")
        first, changed = run_kubeform(playbook, inv, args.forks)
        print(f"  kubeform first run:        {first:6.2f} s  ({changed} changed)")
        again, changed_again = run_kubeform(playbook, inv, args.forks)
        print(f"  kubeform idempotent re-run:{again:6.2f} s  ({changed_again} changed)")
        per_task = again / (args.tasks * args.hosts) * 1000
        print(f"  per-task overhead (re-run): {per_task:5.1f} ms per task per host")
        cli = run_cli(playbook, inv, args.forks)
        print(f"  `kubeform run` command, idempotent (incl. Python start): {cli:.2f} s")
        target = "met" if again < 3.0 else "MISSED"
        print(f"  target re-run < 3 s: {target}")

        binary = os.environ.get("ANSIBLE_PLAYBOOK") or shutil.which("ansible-playbook")
        if not binary:
            print("  ansible-playbook not found: pip install ansible-core (any venv) and set ANSIBLE_PLAYBOOK")
            return
        ans_inv = server.write_inventory(work / "ansible-inventory.yml", root=work / "ans")
        a_first = run_ansible(binary, playbook, ans_inv, server.known_hosts, args.forks)
        print(f"  ansible-playbook first run:        {a_first:6.2f} s")
        a_again = run_ansible(binary, playbook, ans_inv, server.known_hosts, args.forks)
        print(f"  ansible-playbook idempotent re-run:{a_again:6.2f} s")
        print(f"  ratio (ansible / kubeform, re-run): {a_again / again:5.1f}x (engine), {a_again / cli:5.1f}x (whole command)")
        print(f"  target >= 5x: {'met' if a_again / cli >= 5 else 'MISSED'} (whole command)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
