"""Ansible-style roles end to end against the loopback sshd (tests/data/playbooks/roles_site).

The playbook was written for this test: roles with defaults, vars, handlers, templates,
files and meta dependencies, import_playbook, import_role/include_role, include_tasks
with a loop, include_vars, stat, with_* loops, ansible.builtin.* names, group_vars and
host_vars beside the playbook, registered values carried into a later play. It must
converge, a second run must change nothing, and a plan after it must be empty.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from kubeform.cli.main import main
from tests.sshd_server import SSHDServer

pytestmark = pytest.mark.integration

SITE = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "roles_site"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    rc = main([*argv, "--json"])
    out = capsys.readouterr()
    return rc, json.loads(out.out) if out.out.strip() else {"stderr": out.err}


def test_role_based_site_converges_and_is_idempotent(
    sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", root=tmp_path / "hosts", groups={"web": ["h1", "h2"]})
    common = (str(site / "site.yml"), "-i", str(inv))

    rc, plan = run_json(capsys, "plan", *common)
    assert rc in (0, 2), plan
    assert not (tmp_path / "hosts" / "h1" / "state").exists(), "plan must change nothing"

    rc, first = run_json(capsys, "run", *common)
    assert rc == 0, json.dumps(first, indent=1)[:4000]
    h1 = first["hosts"]["h1"]
    names = [t["task"] for t in h1["tasks"]]
    assert len(names) >= 30, names
    assert h1["recap"]["failed"] == 0
    root = tmp_path / "hosts"
    conf = (root / "h1" / "etc" / "common.conf").read_text()
    assert conf.startswith("# Ansible managed\nowner=ops\nmotd=welcome to h1 (first host)\n")
    assert "server 1.pool.ntp.org iburst" in conf
    assert (root / "h3" / "etc" / "common.conf").read_text().splitlines()[2] == "motd=welcome to h3"
    assert (root / "h1" / "etc" / "banner").read_text() == "Authorized use only.\n"
    assert "vm.swappiness = 10" in (root / "h2" / "etc" / "sysctl.conf").read_text()
    assert (root / "h1" / "etc" / "beta.conf").read_text() == "name=beta\n"
    assert (root / "h3" / "etc" / "ssh_config").read_text() == "PermitRootLogin no\nX11Forwarding no\n"
    assert "* hard nofile 8192" in (root / "h1" / "etc" / "limits.conf").read_text()
    app = root / "h1" / "opt" / "shop"
    assert (app / "app.ini").read_text() == "[shop]\nport = 8080\nuser = www\n"
    assert (app / "extra.ini").read_text() == "extra = true\n"
    assert (app / "installed").read_text() == "shop\n"
    assert (app / "restarted").exists(), "the role's handler ran"
    assert (root / "h1" / "state" / "common-reloaded").exists()
    assert (app / "cache" / "b").is_dir()
    assert sorted((root / "h2" / "etc" / "group-members").read_text().split()) == ["admin:alice", "dev:alice", "dev:bob"]
    assert (root / "h1" / "opt" / "slot03").is_dir()
    assert not (root / "h3" / "opt" / "shop").exists(), "h3 is not in web"
    assert (root / "h3" / "state" / "verified").exists()
    base_runs = [t["play"] for t in h1["tasks"] if t["task"] == "a marker of the dependency"]
    assert base_runs == ["prepare", "application"], "a dependency with the same parameters runs once per play"

    rc, second = run_json(capsys, "run", *common)
    assert rc == 0
    for name, host in second["hosts"].items():
        assert host["recap"]["changed"] == 0, (name, [t for t in host["tasks"] if t["changed"]])

    rc, again = run_json(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 0, again


MORE = Path(__file__).resolve().parent.parent / "data" / "playbooks" / "roles_more"


def _git_repo(path: Path) -> str:
    """A repository with one commit on branch main (what the git task checks out)."""
    import subprocess

    work = path.parent / "repo-work"
    work.mkdir(parents=True)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(path.parent)}
    run = lambda *a: subprocess.run(a, cwd=work, env=env, check=True, capture_output=True, text=True).stdout  # noqa: E731
    run("git", "init", "-q", "-b", "main")
    (work / "README").write_text("bundle\n")
    run("git", "add", "README")
    run("git", "commit", "-q", "-m", "first")
    run("git", "clone", "-q", "--bare", str(work), str(path))
    return run("git", "rev-parse", "HEAD").strip()


def test_host_preparation_roles_converge_and_are_idempotent(
    sshd_hosts: SSHDServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """first_found vars, lookups, path roles, unarchive/slurp/git/remote_src: converge, then nothing."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    site = tmp_path / "site"
    shutil.copytree(MORE, site)
    root = tmp_path / "hosts"
    inv = sshd_hosts.write_inventory(tmp_path / "inventory.yml", n=2, root=root, extra_vars={"user_given": "from-inventory"})
    commit = _git_repo(root / "repo.git")
    common = (str(site / "site.yml"), "-i", str(inv))

    rc, plan = run_json(capsys, "plan", *common)
    assert rc in (0, 2), plan
    assert not (root / "h1" / "state").exists(), "plan must change nothing"

    rc, first = run_json(capsys, "run", *common)
    failures = [t for h in first.get("hosts", {}).values() for t in h.get("tasks", [])
                if t.get("status") not in ("ok", "changed", "skipped")]
    assert rc == 0, json.dumps(failures or first, indent=1)[:6000]
    h1 = first["hosts"]["h1"]
    assert len(h1["tasks"]) >= 30, [t["task"] for t in h1["tasks"]]
    assert h1["recap"]["failed"] == 0
    state, bundle = root / "h1" / "state", root / "h1" / "opt" / "bundle"
    assert (state / "os.conf").read_text() in ("flavour=debian\ntool=apt\n", "flavour=redhat\ntool=dnf\n", "flavour=other\ntool=unknown\n")
    assert (state / "tuning").read_text() == "swappiness=10 user_given=from-inventory\n", "a name the user gave wins"
    assert (state / "included").read_text() == "included\n"
    assert sorted(p.name for p in (bundle / "conf.d").iterdir()) == ["a.conf", "b.conf"]
    assert (bundle / "payload.copy").read_text() == "payload v1\n"
    assert (bundle / "VERSION").read_text() == "1.2\n", "defaults/main/ files in name order, later wins"
    assert (bundle / "tree" / "tree" / "two.txt").read_text() == "two\n"
    assert (bundle / "unpacked" / "tree" / "one.txt").read_text() == "one\n"
    assert (bundle / "copies" / "one.txt").stat().st_mode & 0o777 == 0o600
    assert (bundle / "copies" / "one.decoded").read_text() == "one\n"
    assert (bundle / "checkout" / "README").read_text() == "bundle\n"
    assert (bundle / "COMMIT").read_text() == commit + "\n"
    assert (state / "upstreams").read_text() == "10.0.0.53:53 [fe80::53]:53\n1 v4\nnet=10.0.0.0\n"
    assert (state / "ports").read_text() == "listen 8443\n"
    assert (state / "env").read_text() == "unset 8443\n"
    assert (state / "hardened").exists(), "the role's handler ran"
    assert (state / "banner").read_text() == "Authorized use only (h1).\n"
    assert (root / "h2" / "state" / "banner").read_text() == "Authorized use only.\n"
    assert (state / "private").stat().st_mode & 0o777 == 0o700
    assert (root / "h2" / "fetched" / "ports").read_text() == "listen 8443\n", "fetched to the controller"

    rc, second = run_json(capsys, "run", *common)
    assert rc == 0, json.dumps(second, indent=1)[:4000]
    for name, host in second["hosts"].items():
        assert host["recap"]["changed"] == 0, (name, [t for t in host["tasks"] if t["changed"]])

    rc, again = run_json(capsys, "plan", *common, "--detailed-exitcode")
    assert rc == 0, again
