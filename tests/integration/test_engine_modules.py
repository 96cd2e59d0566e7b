"""Modules end to end against the loopback sshd (tests/data/playbooks/modules/*.yml).

Every host of the inventory is this machine, so each playbook confines itself to the
host's ``root`` directory, or only reads (package_facts, service_facts, getent), or
talks to a server this test starts on loopback (get_url, uri). Each playbook is planned
(changing nothing), run, run again (changing nothing) and planned again (empty).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

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


def converge(capsys: pytest.CaptureFixture[str], playbook: Path, inv: Path, *extra: str, replan: int = 0) -> dict[str, Any]:
    """Plan, run, run again and plan again; return the first run's JSON.

    ``replan``: tasks per host a plan cannot know to be done (a forced download).
    """
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
    assert rc == (2 if replan else 0), json.dumps(again, indent=1)[:3000]
    for name, host in again["hosts"].items():
        assert host["recap"]["changed"] == replan, (name, [t for t in host["tasks"] if t["changed"]])
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


class _Handler(http.server.BaseHTTPRequestHandler):
    posted: ClassVar[list[Any]] = []
    files: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/octet-stream") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, b'{"state": "up"}', "application/json")
        elif self.path.startswith("/files/") and self.path[7:] in self.files:
            self._send(200, self.files[self.path[7:]])
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.posted.append(body)
        self._send(201, json.dumps({"id": len(self.posted), "host": body["host"]}).encode(), "application/json")


@pytest.fixture
def http_base() -> Iterator[str]:
    data = b"some data\n"
    _Handler.files = {
        "tool.sh": b"#!/bin/sh\necho tool\n",
        "data.txt": data,
        "SHA256SUMS": f"{'0' * 64}  other.txt\n{hashlib.sha256(data).hexdigest()}  data.txt\n".encode(),
    }
    _Handler.posted = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_get_url_and_uri(inventory: Path, tmp_path: Path, http_base: str, capsys: pytest.CaptureFixture[str]) -> None:
    first = converge(capsys, PLAYBOOKS / "http.yml", inventory, "-e", f"base_url={http_base}", replan=1)
    root = tmp_path / "hosts" / "h1"
    assert (root / "tool.sh").read_text() == "#!/bin/sh\necho tool\n"
    assert (root / "tool.sh").stat().st_mode & 0o777 == 0o755
    assert (root / "data.txt").read_text() == "some data\n"
    assert (root / "health").read_text() == "200 up\n"
    assert sorted(p["host"] for p in _Handler.posted) == ["h1", "h2"], "POSTed once per host, not by plans"
    assert (root / "registered").read_text() in ("1\n", "2\n")
    forced = next(t for t in first["hosts"]["h1"]["tasks"] if t["task"] == "forced, replaced only when it differs")
    assert forced["changed"]
    _Handler.files["data.txt"] = b"new data\n"
    rc, again = run_json(capsys, "run", str(PLAYBOOKS / "http.yml"), "-i", str(inventory), "-e", f"base_url={http_base}")
    assert rc == 0, again
    assert (root / "data.txt").read_text() == "some data\n", "the file still matches the checksum list: kept"
    assert (root / "data-forced.txt").read_text() == "new data\n", "force: the changed remote file replaces it"
    changed = [t["task"] for t in again["hosts"]["h1"]["tasks"] if t["changed"]]
    assert changed == ["forced, replaced only when it differs"], changed


def test_user_and_group(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uname = f"kft{os.getpid() % 100000}"
    extra = ("-e", f"uname={uname}")
    try:
        converge(capsys, PLAYBOOKS / "accounts.yml", inventory, *extra)
        entry = subprocess.run(["getent", "passwd", uname], capture_output=True, text=True).stdout.strip().split(":")
        root = tmp_path / "hosts" / "h1"
        assert entry[4:] == ["kubeform test account", f"{root}/home/{uname}", "/bin/sh"]
        assert (root / "home" / uname).is_dir()
        assert (root / "account").read_text() == f"{root}/home/{uname} /bin/sh\n"
        converge(capsys, PLAYBOOKS / "accounts_down.yml", inventory, *extra)
        assert subprocess.run(["getent", "passwd", uname], capture_output=True).returncode != 0
        assert subprocess.run(["getent", "group", uname], capture_output=True).returncode != 0
        assert not (root / "home" / uname).exists()
    finally:
        subprocess.run(["userdel", "-r", uname], capture_output=True)
        subprocess.run(["groupdel", uname], capture_output=True)


def test_timezone_planned(inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Planned only: changing this machine's zone is not the test's to do."""
    current = os.path.realpath("/etc/localtime").split("/zoneinfo/", 1)[-1]
    other = "Asia/Tokyo" if current != "Asia/Tokyo" else "Europe/Berlin"
    common = (str(PLAYBOOKS / "timezone.yml"), "-i", str(inventory), "--detailed-exitcode")
    rc, same = run_json(capsys, "plan", *common, "-e", f"zone={current}")
    assert rc == 0, same
    rc, plan = run_json(capsys, "plan", *common, "-e", f"zone={other}")
    assert rc == 2, plan
    assert plan["hosts"]["h1"]["tasks"][0]["diff"][0]["after"] == other
    rc, bad = run_json(capsys, "plan", *common, "-e", "zone=Mars/Olympus")
    assert rc == 1 and "unknown time zone" in bad["hosts"]["h1"]["tasks"][0]["msg"], bad
    assert os.path.realpath("/etc/localtime").split("/zoneinfo/", 1)[-1] == current


def test_system_facts_common_set(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    converge(capsys, PLAYBOOKS / "system_facts.yml", inventory)
    machine = os.uname().machine
    assert (tmp_path / "hosts" / "h1" / "facts").read_text() == f"Linux {machine} 64 True\n"


def test_environment_and_module_defaults(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    converge(capsys, PLAYBOOKS / "environment.yml", inventory)
    assert (tmp_path / "hosts" / "h2" / "env").read_text() == "play block task http://proxy.h2:3128\n"
    assert (tmp_path / "hosts" / "h1" / "env-become").read_text() == "play\n"
    defaulted, overridden = tmp_path / "hosts" / "h1" / "defaulted", tmp_path / "hosts" / "h1" / "overridden"
    assert (defaulted.read_text(), defaulted.stat().st_mode & 0o777) == ("default\n", 0o600), "module_defaults"
    assert (overridden.read_text(), overridden.stat().st_mode & 0o777) == ("block\n", 0o640)


def test_deb822_repository_planned(inventory: Path, http_base: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Planned only: the repository and its key would be written under /etc/apt."""
    suffix = str(os.getpid())
    _Handler.files["key.asc"] = b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n"
    common = (str(PLAYBOOKS / "deb822.yml"), "-i", str(inventory), "-e", f"base_url={http_base}", "-e", f"suffix={suffix}")
    rc, plan = run_json(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 2, plan
    task = plan["hosts"]["h1"]["tasks"][0]
    labels = [d["label"] for d in task["diff"]]
    assert labels == [f"/etc/apt/keyrings/kubeform-test-{suffix}.asc", f"/etc/apt/sources.list.d/kubeform-test-{suffix}.sources"]
    assert f"Signed-By: /etc/apt/keyrings/kubeform-test-{suffix}.asc\n" in task["diff"][1]["after"]
    assert "mDMEZ" in task["diff"][0]["after"]
    assert not Path(f"/etc/apt/sources.list.d/kubeform-test-{suffix}.sources").exists()


def test_ini_file_pam_limits_ping_getent(inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    converge(capsys, PLAYBOOKS / "text_and_lookup.yml", inventory)
    root = tmp_path / "hosts" / "h1"
    assert (root / "app.ini").read_text() == "[web]\nport = 8080\nlisten = a\nlisten = b\n\n[db]\nname=shop\n"
    assert (root / "limits.conf").read_text() == "*\tsoft\tnofile\t65536\n"
    assert (root / "found").read_text() == "app.ini,limits.conf 2\n"
    repo = (root / "yum.repos.d" / "kubeform.repo").read_text()
    assert repo == "[kubeform]\nbaseurl = http://a.example/repo\n\thttp://b.example/repo\ngpgcheck = 0\nname = kubeform test\n"
    shell = subprocess.run(["getent", "passwd", "root"], capture_output=True, text=True).stdout.strip().split(":")
    assert (root / "root-shell").read_text() == f"{shell[6]} {shell[2]}\n"


def test_apt_repository_planned(inventory: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Planned only: the source would be written under /etc/apt."""
    suffix = str(os.getpid())
    common = (str(PLAYBOOKS / "apt_repository.yml"), "-i", str(inventory), "-e", f"suffix={suffix}", "--detailed-exitcode")
    rc, plan = run_json(capsys, "plan", *common, "-e", "want=present")
    assert rc == 2, plan
    task = plan["hosts"]["h1"]["tasks"][0]
    assert task["diff"][0]["label"] == f"/etc/apt/sources.list.d/repo_invalid_kubeform_{suffix}.list"
    assert task["diff"][0]["after"] == f"deb [arch=amd64] http://repo.invalid/kubeform-{suffix} stable main\n"
    rc, plan = run_json(capsys, "plan", *common, "-e", "want=absent")
    assert rc == 0, plan
