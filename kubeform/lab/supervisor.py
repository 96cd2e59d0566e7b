"""The per-host supervisor: keeps one systemd-nspawn machine running across reboots.

A reboot inside a host makes systemd-nspawn exit 133, so something outside must start
it again, as a VM's firmware would; poweroff (exit 0) and ``lab stop`` end it. It is a
detached process (own session, pid file) rather than a systemd unit because the machine
running kubeform may not run systemd as PID 1.

Run as: python -m kubeform.lab.supervisor --lab-dir DIR --host NAME -- NSPAWN-ARGV...
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from kubeform.lab.system import children, kill

REBOOT_EXIT = 133
MAX_QUICK_RESTARTS = 5  # within QUICK_WINDOW seconds: a crash loop, give up
QUICK_WINDOW = 30.0


def next_step(rc: int, stopping: bool, recent_restarts: int) -> str:
    """``restart`` after a reboot, else ``exit`` (poweroff, stop, failure, crash loop)."""
    if stopping or rc != REBOOT_EXIT:
        return "exit"
    if recent_restarts >= MAX_QUICK_RESTARTS:
        return "exit"
    return "restart"


# /proc/sys/net writable inside the machine (its own network namespace), the rest of
# /proc/sys read-only: `kubeform up` sets net.* sysctls on lab hosts as on real ones,
# while kernel-wide settings of the machine running the lab stay out of reach.
NSPAWN_ENV = {**os.environ, "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "network"}


class Supervisor:
    """Owns one nspawn process at a time; SIGTERM powers the machine off hard."""

    def __init__(self, host_dir: Path, argv: Sequence[str]) -> None:
        self.host_dir = host_dir
        self.argv = list(argv)
        self.stopping = False
        self.proc: subprocess.Popen[bytes] | None = None

    def on_term(self, signum: int, frame: FrameType | None) -> None:
        """Stop: kill the container's init (its whole PID namespace goes with it)."""
        self.stopping = True
        if self.proc is not None:
            for pid in children(self.proc.pid):
                kill(pid, signal.SIGKILL)

    def run(self) -> int:
        (self.host_dir / "supervisor.pid").write_text(f"{os.getpid()}\n")
        signal.signal(signal.SIGTERM, self.on_term)
        signal.signal(signal.SIGINT, self.on_term)
        restarts: list[float] = []
        rc = 0
        with (self.host_dir / "console.log").open("ab") as log:
            while not self.stopping:
                self.proc = subprocess.Popen(
                    self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=NSPAWN_ENV
                )
                (self.host_dir / "nspawn.pid").write_text(f"{self.proc.pid}\n")
                rc = self.proc.wait()
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < QUICK_WINDOW]
                step = next_step(rc, self.stopping, len(restarts))
                log.write(f"\n[kubeform supervisor] nspawn exited {rc}: {step}\n".encode())
                log.flush()
                if step == "exit":
                    break
                restarts.append(now)
        for name in ("nspawn.pid", "supervisor.pid"):
            (self.host_dir / name).unlink(missing_ok=True)
        return 0 if rc in (0, REBOOT_EXIT) or self.stopping else rc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubeform-lab-supervisor")
    parser.add_argument("--lab-dir", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("nspawn", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    nspawn = args.nspawn[1:] if args.nspawn[:1] == ["--"] else args.nspawn
    return Supervisor(Path(args.lab_dir) / args.host, nspawn).run()


if __name__ == "__main__":
    sys.exit(main())
