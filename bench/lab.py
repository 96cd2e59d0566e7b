"""Time ``kubeform lab up`` (cold: image built; cached: image reused) and ``lab down``.

Run as root: ``python bench/lab.py [--skip-cold] [--hosts N]``. Uses its own lab name and
subnet (kfbench, 192.168.58.0/24) and removes the lab at the end, also on failure.
The cold figure rebuilds the shared base image (--rebuild), so no lab may be running.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

NAME = "kfbench"
SUBNET = "192.168.58.0/24"


def kubeform(*args: str) -> float:
    """Run one kubeform command, fail loudly, return its wall time in seconds."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "kubeform", *args], capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"kubeform {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-cold", action="store_true", help="do not rebuild the base image")
    parser.add_argument("--hosts", type=int, default=3)
    args = parser.parse_args()
    lab = ["--name", NAME]
    up = ["lab", "up", *lab, "--subnet", SUBNET, "--hosts", str(args.hosts)]
    rows: list[tuple[str, float]] = []
    try:
        kubeform("lab", "down", *lab)
        if not args.skip_cold:
            rows.append((f"lab up, cold (image build + {args.hosts} hosts)", kubeform(*up, "--rebuild")))
            rows.append(("lab down", kubeform("lab", "down", *lab)))
        for i in (1, 2):
            rows.append((f"lab up, image cached ({args.hosts} hosts) #{i}", kubeform(*up)))
            rows.append((f"lab down #{i}", kubeform("lab", "down", *lab)))
    finally:
        subprocess.run([sys.executable, "-m", "kubeform", "lab", "down", *lab],
                       capture_output=True, check=False)
    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"{label:<{width}}  {seconds:6.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
