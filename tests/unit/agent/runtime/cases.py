"""Loading the agent runtime's data-driven cases: YAML in, NamedTuples and epochs out.

A case's ``observed`` block is written as the driver would report it::

    observed:
      sandbox: {ip: 10.244.1.5}           # ready unless ready: false; omitted = none
      containers:                         # ContainerInfo fields; pod_uid filled in
        - {name: app, attempt: 0, id: c1, state: exited, exit_code: 1,
           started_at: "2024-01-01T00:00:00Z", finished_at: "2024-01-01T00:00:05Z"}
      images: [busybox]                   # refs already pulled
      pull_errors: {bad:1: "manifest unknown"}
      pull_backoff: {bad:1: {failures: 1, last_failure: "2024-01-01T00:00:50Z"}}
      crash_backoff: {...}                # default: counted from the containers, as the manager does
      verdicts: {app: {started: true, ready: false, kill: liveness, message: "..."}}
      config_errors: {app: "..."}
      volume_error: ""
      hashes: {c1: 0123abcd}              # container id -> spec hash it was started from
      hooks: {c1: {postStart: pending}}   # container id -> hook -> state (hookrecords.py)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kubeform.agent.runtime import backoff, lifecycle
from kubeform.agent.runtime.driver import ContainerInfo, ImageInfo, SandboxInfo
from kubeform.agent.runtime.probes import Verdict

DATA = Path(__file__).resolve().parents[3] / "data" / "agent_runtime"


def case_files(kind: str) -> list[Path]:
    return sorted((DATA / kind).glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), path
    return data


def t(value: Any) -> float:
    """A case's time (RFC 3339 string or number) as seconds since the epoch."""
    if isinstance(value, (int, float)):
        return float(value)
    return lifecycle.epoch(str(value)) if value else 0.0


def observed(pod: dict[str, Any], raw: dict[str, Any] | None) -> lifecycle.Observed:
    raw = raw or {}
    uid = (pod.get("metadata") or {}).get("uid", "uid-1")
    sb = raw.get("sandbox")
    sandbox = None
    if sb is not None:
        sandbox = SandboxInfo(uid, sb.get("id", "sb"), sb.get("netns", "/run/netns/x"), sb.get("ip", ""), sb.get("ready", True))
    containers = []
    for c in raw.get("containers") or []:
        containers.append(
            ContainerInfo(
                uid, c["name"], int(c.get("attempt", 0)), c.get("id", "{}-{}".format(c["name"], c.get("attempt", 0))),
                c.get("state", "running"), c.get("exit_code"), c.get("started_at", ""), c.get("finished_at", ""),
                int(c.get("pid", 0)), c.get("reason", ""),
            )
        )
    images = {ref: ImageInfo(ref, "sha256:" + "ab" * 32, [], [], [], "", "") for ref in raw.get("images") or []}
    pull_backoff = {
        ref: backoff.Backoff(int(e.get("failures", 1)), t(e.get("last_failure")), -1)
        for ref, e in (raw.get("pull_backoff") or {}).items()
    }
    if "crash_backoff" in raw:
        crash = {
            name: backoff.Backoff(int(e.get("failures", 1)), t(e.get("last_failure")), int(e.get("attempt", -1)))
            for name, e in (raw.get("crash_backoff") or {}).items()
        }
    else:
        crash = lifecycle.update_crash_backoff(pod, containers, {})
    verdicts = {
        name: Verdict(bool(v.get("started", True)), bool(v.get("ready", True)), v.get("kill", ""), v.get("message", ""))
        for name, v in (raw.get("verdicts") or {}).items()
    }
    return lifecycle.Observed(
        sandbox, containers, images, dict(raw.get("pull_errors") or {}), pull_backoff, crash, verdicts,
        dict(raw.get("config_errors") or {}), raw.get("volume_error", ""), dict(raw.get("hashes") or {}),
        {cid: dict(h) for cid, h in (raw.get("hooks") or {}).items()},
    )


def describe(a: lifecycle.Action) -> str:
    """An action as one line of a case file."""
    if a.kind == "pull":
        return f"pull {a.container} {a.image}"
    if a.kind == "start":
        return f"start {a.container} #{a.attempt}{' init' if a.init else ''}"
    if a.kind == "kill":
        return f"kill {a.container_id} grace={a.grace:g} {a.reason}"
    if a.kind == "remove":
        return f"remove {a.container_id}"
    if a.kind == "poststart":
        return f"poststart {a.container_id}"
    return a.kind
