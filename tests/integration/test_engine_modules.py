"""Modules end to end against the loopback sshd (tests/data/playbooks/modules/*.yml).

Every host of the inventory is this machine, so each playbook confines itself to the
host's ``root`` directory, or only reads (package_facts, service_facts, getent), or
talks to a server this test starts on loopback (get_url, uri). Each playbook is planned
(changing nothing), run, run again (changing nothing) and planned again (empty).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeform.cli.main import main
from tests.sshd_server import SSHDServer

pytestmark = pytest.mark.integration

PLAYBOOKS = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "modules"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = main([*argv, "--json"])
    out = capsys.readouterr()
    return rc, json.loads(out.out) if out.out.strip() else {"stderr": out.err}


def converge(capsys: pytest.CaptureFixture[str], playbook: Path, inv: Path, *extra: str) -> dict[str, Any]:
    """Plan, run, run again and plan again; return the first run's JSON."""
    common = (str(playbook), "-i", str(inv), *extra)
    rc, plan = run_json(capsys, "plan", *common)
    assert rc in (0, 2), json.dumps(plan, indent=1)[:3000]
    rc, first = run_json(capsys, "run", *common)
    assert rc == 0, json.dumps(first, indent=1)[:4000]
    rc, second = run_json(capsys, "run", *common)
    assert rc == 0, json.dumps(second, indent=1)[:4000]
    for name, host in second["hosts"].items():
        assert host["recap"]["changed"] == 0, (name, [t for t in host["tasks"] if t["changed"]])
    rc, again = run_json(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 0, json.dumps(again, indent=1)[:3000]
    return first


@pytest.fixture
def inventory(sshd_hosts: SSHDServer, tmp_path: Path) -> Path:
    return sshd_hosts.write_inventory(tmp_path / "inventory.yml", 2, root=tmp_path / "hosts")


def _mounted(path: Path) -> bool:
    return subprocess.run(["findmnt", "--mountpoint", str(path)], capture_output=True).returncode == 0


@pytest.fixture
def unmount_after(tmp_path: Path) -> Iterator[None]:
    yield
    for h in ("h1", "h2"):
        for sub in ("scratch", "eph"):
            p = tmp_path / "hosts" / h / "mnt" / sub
            while _mounted(p):
                subprocess.run(["umount", str(p)], check=False)


def test_mount(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], unmount_after: None) -> None:
    first = converge(capsys, PLAYBOOKS / "mount.yml", inventory)
    assert first["hosts"]["h1"]["recap"]["changed"] == 3
    root = tmp_path / "hosts" / "h1"
    fstab = (root / "fstab").read_text().splitlines()
    assert fstab == [f"tmpfs {root}/mnt/scratch tmpfs size=1m 0 0", f"tmpfs {root}/mnt/later tmpfs defaults 0 0"]
    assert _mounted(root / "mnt" / "scratch") and _mounted(root / "mnt" / "eph")
    assert not _mounted(root / "mnt" / "later")
    converge(capsys, PLAYBOOKS / "mount_down.yml", inventory)
    assert not _mounted(root / "mnt" / "scratch") and not _mounted(root / "mnt" / "eph")
    assert not (root / "mnt" / "scratch").exists()
    assert (root / "fstab").read_text() == f"tmpfs {root}/mnt/later tmpfs defaults 0 0\n"


def test_package_and_service_facts(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    converge(capsys, PLAYBOOKS / "facts_modules.yml", inventory)
    root = tmp_path / "hosts" / "h2"
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "openssh-server"], capture_output=True, text=True).stdout
    assert (root / "sshd-version").read_text() == version + "\n"
    assert (root / "facts-summary").read_text() == "True True\n"
