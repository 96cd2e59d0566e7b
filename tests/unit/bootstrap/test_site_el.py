"""The whole of playbooks/site.yml planned against recorded CentOS 7 and Rocky 9 hosts.

No EL machine is at hand in CI, so the EL-only steps (yum/dnf, the elrepo kernel and its
reboot, SELinux, firewalld, docker) are checked by planning site.yml through the real
engine against a fake connection that replays recorded command output. Each host kind
is a data file, tests/data/site/<kind>-host.yml: which recorded outputs
(tests/data/recorded/<kind>/) answer which probe, plus the files the host has. The
planned changes, task by task, are compared with tests/data/site/<kind>-plan.yml.

The engine batches every fact a task needs into one shell script (see
kubeform/engine/facts_batch.py); the fake splits that script at its section markers and
answers each probe on its own, so the recordings stay one file per command.

Set KUBEFORM_UPDATE_EXPECTED=1 to rewrite the expected plans (then read the diff).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.bootstrap.cluster_plan import PLAYBOOK_DIR, cluster_plan, prepare
from kubeform.engine.playbook import load_playbook
from kubeform.engine.results import RunResult
from kubeform.engine.runner import Options, run_playbook
from kubeform.inventory.loader import load_inventory
from kubeform.inventory.model import Host
from kubeform.modules.facts import SYSTEM_COMMAND
from kubeform.transport.base import CommandResult, Connection

DATA = Path(__file__).resolve().parents[2] / "data"
SITE = DATA / "site"
RECORDED = DATA / "recorded"

#: One section of the engine's fact batch script: begin marker, command, end marker.
SECTION = re.compile(
    r"printf '%s\\n' '@@KF(\w+)B(\d+)@@'\n(.*?)\nprintf '\\n@@KF\1E\2:%d@@\\n' \$\?", re.S
)
#: The file-state probe of the file modules: ``( p=/path; k=$(...`` .
FILE_PROBE = re.compile(r"^\( p=(\S+); k=")

KINDS = ["centos7", "rocky9"]


@dataclass
class Rule:
    """Answer commands matching ``match`` (a regex searched in the command)."""

    match: re.Pattern[str]
    stdout: str
    rc: int = 0


@dataclass
class RecordedHost:
    """A host kind as recorded: rules for probes and the files it has."""

    kind: str
    rules: list[Rule]
    files: dict[str, str]
    unanswered: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, kind: str) -> RecordedHost:
        spec = yaml.safe_load((SITE / f"{kind}-host.yml").read_text())
        recorded = RECORDED / spec["recorded"]

        def text(parts: Any) -> str:
            if isinstance(parts, str):
                return parts
            out = []
            for part in parts:
                if isinstance(part, dict):
                    out.append((recorded / part["file"]).read_text())
                else:
                    out.append(str(part))
            return "".join(out)

        rules = [Rule(re.compile(re.escape(SYSTEM_COMMAND)), text([{"file": "system_facts.out"}]))]
        for r in spec.get("answers", []):
            rules.append(Rule(re.compile(r["match"]), text(r.get("stdout", "")), int(r.get("rc", 0))))
        return cls(kind, rules, {k: text(v) for k, v in (spec.get("files") or {}).items()})

    def answer(self, command: str) -> tuple[str, int]:
        m = FILE_PROBE.match(command)
        if m:
            return self._file_state(m.group(1))
        for rule in self.rules:
            if rule.match.search(command):
                return rule.stdout, rule.rc
        self.unanswered.append(command)
        return "", 1

    def _file_state(self, path: str) -> tuple[str, int]:
        """What the file probe prints: absent, or a regular file's mode, hash and content."""
        import base64
        import hashlib

        if path.endswith("/") or path in {"/etc/kubeform", "/etc/kubeform/pki", "/etc/docker"}:
            return "kind=absent\n", 0
        content = self.files.get(path)
        if content is None:
            return "kind=absent\n", 0
        data = content.encode()
        return (
            "kind=file\n"
            f"stat=644 root root {len(data)}\n"
            f"sha256={hashlib.sha256(data).hexdigest()}\n"
            f"content={base64.b64encode(data).decode()}\n",
            0,
        )


class ReplayConnection:
    """A Connection that answers the engine's fact batches from a RecordedHost."""

    def __init__(self, host: RecordedHost) -> None:
        self.host = host
        self.name = host.kind

    def run(
        self,
        command: str,
        *,
        become: bool = False,
        become_user: str = "root",
        stdin: bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        sections = list(SECTION.finditer(command))
        if not sections:
            stdout, rc = self.host.answer(command)
            return CommandResult(rc, stdout, "")
        out = []
        for m in sections:
            nonce, index, body = m.groups()
            # body is `sh -c '<probe>' </dev/null 2>/dev/null`
            probe = shlex.split(body)[2]
            stdout, rc = self.host.answer(probe)
            out.append(f"@@KF{nonce}B{index}@@\n{stdout.rstrip(chr(10))}\n@@KF{nonce}E{index}:{rc}@@\n")
        return CommandResult(0, "".join(out), "")

    def put(self, content: bytes, path: str, *, mode: int | None = None, become: bool = False) -> None:
        raise AssertionError(f"a plan must not upload ({path})")

    def close(self) -> None:
        pass


class ReplayPool:
    """Every host of the inventory is the same recorded host kind."""

    def __init__(self, host: RecordedHost) -> None:
        self.host = host

    def get(self, host: Host) -> Connection:
        return ReplayConnection(self.host)

    def reconnect(self, host: Host, timeout: float) -> Connection:
        return self.get(host)


INVENTORY = """\
all:
  vars:
    ansible_user: root
  hosts:
    master1: {ansible_host: 10.0.0.11}
  children:
    masters: {hosts: {master1: }}
    etcd: {hosts: {master1: }}
"""


def plan_site(kind: str, tmp_path: Path, inventory_vars: str = "") -> tuple[RunResult, RecordedHost]:
    """Plan site.yml for a one-host cluster of this host kind."""
    inv_path = tmp_path / "inventory.yml"
    inv_path.write_text(INVENTORY.replace("    ansible_user: root\n", "    ansible_user: root\n" + inventory_vars))
    inventory = load_inventory(str(inv_path))
    plan = cluster_plan(inventory)
    _, extra = prepare(plan, tmp_path / "cluster")
    host = RecordedHost.load(kind)
    playbook = load_playbook(str(PLAYBOOK_DIR / "site.yml"))
    result = run_playbook(
        playbook, inventory, Options(check=True, diff=True, extra_vars=extra), ReplayPool(host)
    )
    return result, host


def _stable(text: str) -> str:
    """Drop what changes without the plan changing: sizes, agent file names, loop labels."""
    text = re.sub(r"\(\d+ bytes\)", "(N bytes)", text)
    text = re.sub(r" \(\{'src'.*\)$", "", text)
    # host-side code: which files and subpackages ship changes with every module added
    text = re.sub(r"/opt/kubeform/kubeform/[\w/]+\.py", "/opt/kubeform/kubeform/*.py", text)
    return re.sub(r"/opt/kubeform/kubeform/[\w/]+", "/opt/kubeform/kubeform/*", text)


def summarize(result: RunResult) -> list[dict[str, Any]]:
    """Task by task: status, and each planned change with its steps (no diffs: they hold
    generated certificates). One line per distinct change of a loop over agent files."""
    out: list[dict[str, Any]] = []
    for r in result.results:
        entry: dict[str, Any] = {"task": r.task, "status": r.status}
        if r.msg and r.status == "failed":
            entry["msg"] = r.msg
        changes: list[dict[str, Any]] = []
        for c in r.changes:
            item: dict[str, Any] = {"change": _stable(f"{c.action} {c.summary}")}
            if c.steps:
                item["steps"] = [_stable(s) for s in c.steps]
            if item not in changes:
                changes.append(item)
        if changes:
            entry["changes"] = changes
        out.append(entry)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_site_plan_matches_expected(kind: str, tmp_path: Path) -> None:
    result, host = plan_site(kind, tmp_path)
    got = summarize(result)
    expected_path = SITE / f"{kind}-plan.yml"
    if os.environ.get("KUBEFORM_UPDATE_EXPECTED"):
        header = f"# site.yml planned on a recorded {kind} host (tests/unit/bootstrap/test_site_el.py).\n"
        expected_path.write_text(header + yaml.safe_dump(got, sort_keys=False, width=200))
    assert not host.unanswered, "probes without a recorded answer:\n" + "\n".join(host.unanswered)
    assert not result.errors
    assert got == yaml.safe_load(expected_path.read_text())


def _changes(result: RunResult, task_prefix: str) -> str:
    text = []
    for r in result.results:
        if r.task.startswith(task_prefix):
            for c in r.changes:
                text.append(c.summary)
                text.extend(c.steps)
    return "\n".join(text)


def test_centos7_plan_installs_elrepo_kernel_lt_and_reboots(tmp_path: Path) -> None:
    result, _ = plan_site("centos7", tmp_path)
    kernel = _changes(result, "Kernel at least")
    assert "kernel-lt" in kernel and "elrepo" in kernel
    assert "grub" in kernel and "reboot" in kernel.lower()
    assert "permissive" in _changes(result, "SELinux")
    assert _changes(result, "firewalld off")
    assert "docker" in _changes(result, "Container runtime")
    assert _changes(result, "docker configured")
    assert _changes(result, "docker running")
    assert "yum" in _changes(result, "etcd installed")


def test_rocky9_plan_keeps_its_kernel_and_uses_dnf(tmp_path: Path) -> None:
    result, _ = plan_site("rocky9", tmp_path)
    assert _changes(result, "Kernel at least") == ""
    assert "dnf" in _changes(result, "etcd installed")
    assert "permissive" in _changes(result, "SELinux")
    assert _changes(result, "firewalld off")
    assert "dnf install -y crun" in _changes(result, "Container runtime")
    assert _changes(result, "docker") == ""


def test_inventory_settings_win_over_the_playbooks_defaults(tmp_path: Path) -> None:
    settings = (
        "    container_runtime: docker\n"
        "    etcd_package: etcd-bin\n"
        "    kube_proxy_mode: ipvs\n"
    )
    result, host = plan_site("rocky9", tmp_path, settings)
    assert not result.failed and not host.unanswered
    assert "dnf install -y docker" in _changes(result, "Container runtime")
    assert "dnf install -y etcd-bin" in _changes(result, "etcd installed")
    assert "modprobe ip_vs" in _changes(result, "ipvs kernel modules persisted")
    assert "ipvsadm" in _changes(result, "ipvs tools")


def test_a_higher_kernel_min_in_the_inventory_asks_for_kernel_lt_on_rocky9(tmp_path: Path) -> None:
    result, _ = plan_site("rocky9", tmp_path, "    kernel_min: '6.1'\n")
    assert "Kernel at least 6.1" in [r.task for r in result.results]
    assert "kernel-lt" in _changes(result, "Kernel at least")


def test_offline_runtime_bundle_is_copied_and_installed_from_files(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name in ("docker-1.13.1-209.el7.x86_64.rpm", "docker-client-1.13.1-209.el7.x86_64.rpm"):
        (bundle / name).write_bytes(b"rpm payload")
    settings = f"    container_runtime_packages: ['{bundle}/docker-1.13.1-209.el7.x86_64.rpm', '{bundle}/docker-client-1.13.1-209.el7.x86_64.rpm']\n"
    result, _ = plan_site("centos7", tmp_path, settings)
    assert not result.failed
    copied = _changes(result, "Offline runtime packages")
    assert "/var/cache/kubeform/docker-1.13.1-209.el7.x86_64.rpm" in copied
    # The package files are not on the host before the copy runs, so the plan shows the
    # install as depending on the copy (not guessed, not failed).
    install = next(r for r in result.results if r.task.startswith("Container runtime"))
    assert install.depends_on is not None and install.depends_on.startswith("Offline runtime packages")
    assert install.blocked_by_change
