"""env.resolve: a container's env, argv, workingDir and user (tests/data/agent_runtime/env)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.agent.runtime import env

from .cases import case_files, load


@pytest.mark.parametrize("path", case_files("env"), ids=lambda p: p.stem)
def test_resolve(path: Path) -> None:
    case = load(path)
    pod = case["pod"]
    containers = pod["spec"]["containers"]
    container = next(c for c in containers if c["name"] == case.get("container", containers[0]["name"]))
    image = case.get("image") or {}
    args = (
        pod, container, image.get("entrypoint", []), image.get("cmd", []), image.get("working_dir", ""),
        case.get("configmaps") or {}, case.get("secrets") or {}, case.get("pod_ip", "10.244.1.5"), case.get("host_ip", "192.168.71.11"),
        [tuple(kv) for kv in case.get("services") or []],
    )
    if "error" in case:
        with pytest.raises(env.ConfigError) as err:
            env.resolve(*args)
        assert str(err.value) == case["error"]
        return
    got = env.resolve(*args)
    want = case["expected"]
    if "env" in want:
        assert [list(kv) for kv in got.env] == [list(kv) for kv in want["env"]]
    if "argv" in want:
        assert got.argv == want["argv"]
    if "working_dir" in want:
        assert got.working_dir == want["working_dir"]
    if "user" in want:
        assert (got.user, got.group) == (want["user"], want.get("group"))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("$(A)-$(B)", "1-$(B)"),
        ("$$(A)", "$(A)"),
        ("$$$(A)", "$1"),
        ("a$", "a$"),
        ("$(A", "$(A"),
        ("$x", "$x"),
        ("$(A)$(A)", "11"),
    ],
)
def test_expand(text: str, want: str) -> None:
    assert env.expand(text, {"A": "1"}) == want
