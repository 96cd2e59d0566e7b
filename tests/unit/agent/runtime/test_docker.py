"""The docker driver's pure parts: argv from a ContainerSpec, docker inspect JSON read back,
image references in the cluster registry, /proc accounting (kubeform.agent.runtime.docker).

Cases in tests/data/agent_runtime/docker/; the driver on a real docker is tested in
tests/lab/test_runtime_docker.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import docker, dockerlogs
from kubeform.agent.runtime.driver import (
    ContainerSpec,
    ImageInfo,
    Mount,
    RuntimeError_,
    SandboxSpec,
)

DATA = Path(__file__).resolve().parents[3] / "data" / "agent_runtime" / "docker"
ARGV = yaml.safe_load((DATA / "argv.yaml").read_text())
INSPECT = yaml.safe_load((DATA / "inspect.yaml").read_text())


def _spec(overrides: dict[str, Any]) -> ContainerSpec:
    raw = dict(ARGV["defaults"]["spec"], **overrides)
    raw["image"] = ImageInfo(**raw["image"])
    mounts = []
    for m in raw["mounts"]:
        parts = m.split(":")
        mounts.append(Mount(parts[0], parts[1], len(parts) > 2 and parts[2] == "ro"))
    raw["mounts"] = mounts
    return ContainerSpec(**raw)


@pytest.mark.parametrize("case", ARGV["cases"], ids=lambda c: c["name"])
def test_create_argv(case: dict[str, Any]) -> None:
    spec = _spec(case["spec"])
    if "error" in case:
        with pytest.raises(RuntimeError_, match=case["error"]):
            docker.create_argv(spec, "SB", case["files"])
        return
    assert docker.create_argv(spec, "SB", case["files"]) == case["want"]


@pytest.mark.parametrize("case", ARGV["user"], ids=str)
def test_user_arg(case: dict[str, Any]) -> None:
    assert docker.user_arg(case["user"], case["group"], case["image_user"]) == case["want"]


def test_pause_argv() -> None:
    case = ARGV["pause"]
    assert docker.pause_argv(SandboxSpec(**case["spec"]), case["dns"]) == case["want"]
    old = docker.pause_argv(SandboxSpec(**case["spec"]), case["dns"], shareable_ipc=False)
    assert old == [a for a in case["want"] if a not in ("--ipc", "shareable")], "docker < 17.06 knows no shareable"


@pytest.mark.parametrize(
    ("version", "want"),
    [("20.10.24+dfsg1", True), ("17.06.2-ce", True), ("1.13.1", False), ("17.05.0-ce", False), ("", True)],
)
def test_version_at_least_17_06(version: str, want: bool) -> None:
    assert docker.version_at_least(version, (17, 6)) is want


@pytest.mark.parametrize("case", ARGV["exec"], ids=str)
def test_exec_argv(case: dict[str, Any]) -> None:
    assert docker.exec_argv("docker", "C1", case["argv"], case["tty"], case["stdin"]) == case["want"]


@pytest.mark.parametrize("case", ARGV["mirror"], ids=lambda c: f"{c['ref']}@{c['registry']}")
def test_mirror_ref(case: dict[str, Any]) -> None:
    assert docker.mirror_ref(case["ref"], case["registry"]) == case["want"]


@pytest.mark.parametrize("case", INSPECT["containers"], ids=lambda c: c["name"])
def test_parse_container(case: dict[str, Any]) -> None:
    got = docker.parse_container(case["raw"])
    assert (got._asdict() if got else None) == case["want"]


@pytest.mark.parametrize("case", INSPECT["sandboxes"], ids=lambda c: c["name"])
def test_parse_sandbox(case: dict[str, Any]) -> None:
    got = docker.parse_sandbox(case["raw"], case["ip"])
    assert (got._asdict() if got else None) == case["want"]


@pytest.mark.parametrize("case", INSPECT["images"], ids=lambda c: c["name"])
def test_parse_image(case: dict[str, Any]) -> None:
    assert docker.parse_image(case["ref"], case["raw"])._asdict() == case["want"]


@pytest.mark.parametrize("case", INSPECT["pull_reason"], ids=str)
def test_pull_reason(case: dict[str, Any]) -> None:
    assert docker.pull_reason(case["stderr"]) == case["want"]


def test_usage_counts_the_containers_pid_namespaces() -> None:
    u = INSPECT["usage"]
    assert docker.pod_pids(u["ns_of"], u["roots"]) == u["want_pids"]
    assert list(docker.parse_stat(u["stat"])) == u["want_stat"]


@pytest.mark.parametrize(
    ("line", "stream", "want"),
    [
        ("2026-12-01T01:07:45.882568935Z hello\n", "stdout", "2026-12-01T01:07:45.882568935Z stdout F hello\n"),
        ("2026-12-01T01:07:45.1Z  two spaces\n", "stderr", "2026-12-01T01:07:45.1Z stderr F  two spaces\n"),
        ("2026-12-01T01:07:45.1Z no newline", "stdout", "2026-12-01T01:07:45.1Z stdout P no newline\n"),
        ("not timestamped\n", "stdout", "NOW stdout F not timestamped\n"),
    ],
)
def test_docker_log_line_to_cri(line: str, stream: str, want: str) -> None:
    assert dockerlogs.to_cri(line, stream, "NOW") == want


def test_docker_time_key_orders_trimmed_fractions() -> None:
    stamps = [b"2026-12-01T01:07:45.123Z x", b"2026-12-01T01:07:45.1Z y", b"2026-12-01T01:07:44.9Z z"]
    assert sorted(stamps, key=dockerlogs.time_key) == [stamps[2], stamps[1], stamps[0]]


class FakeDocker:
    """Records docker invocations; answers from a table of (argv prefix -> rc, out, err).

    A matched entry is used up when a later entry has the same prefix (so a second
    ``image inspect`` can answer differently from the first)."""

    def __init__(self, answers: list[tuple[list[str], tuple[int, str, str]]]) -> None:
        self.answers = answers
        self.calls: list[list[str]] = []

    def __call__(self, argv: list[str], stdin: str | None) -> tuple[int, str, str]:
        self.calls.append(argv[1:])
        for i, (prefix, answer) in enumerate(self.answers):
            if argv[1 : 1 + len(prefix)] == prefix:
                if any(p == prefix for p, _ in self.answers[i + 1 :]):
                    del self.answers[i]
                return answer
        return 1, "", "unexpected"


IMAGE_JSON = '[{"Id": "sha256:1", "RepoDigests": [], "Config": {"Cmd": ["sh"]}}]'


def test_ensure_image_prefers_the_mirror_and_tags_it_as_the_pod_wrote_it() -> None:
    fake = FakeDocker(
        [
            (["image", "inspect", "busybox"], (1, "", "No such image")),
            (["pull", "10.0.0.1:5000/library/busybox:latest"], (0, "", "")),
            (["tag"], (0, "", "")),
            (["image", "inspect", "busybox"], (0, IMAGE_JSON, "")),
        ]
    )
    drv = docker.DockerDriver(None, registry="10.0.0.1:5000", run=fake)
    info = drv.ensure_image("busybox", "IfNotPresent")
    assert info.ref == "busybox" and info.digest == "sha256:1"
    assert fake.calls == [
        ["image", "inspect", "busybox"],
        ["pull", "10.0.0.1:5000/library/busybox:latest"],
        ["tag", "10.0.0.1:5000/library/busybox:latest", "busybox"],
        ["image", "inspect", "busybox"],
    ]


def test_ensure_image_never_and_missing_is_err_image_never_pull() -> None:
    from kubeform.agent.runtime.driver import PullError

    fake = FakeDocker([(["image", "inspect"], (1, "", "No such image"))])
    drv = docker.DockerDriver(None, run=fake)
    with pytest.raises(PullError) as err:
        drv.ensure_image("busybox", "Never")
    assert err.value.reason == "ErrImageNeverPull"
    assert fake.calls == [["image", "inspect", "busybox"]]


def test_ensure_image_falls_back_to_the_origin_and_reports_its_reason() -> None:
    from kubeform.agent.runtime.driver import PullError

    fake = FakeDocker(
        [
            (["image", "inspect"], (1, "", "No such image")),
            (["pull", "10.0.0.1:5000/library/nope:1"], (1, "", "Error response from daemon: manifest unknown")),
            (["pull", "nope:1"], (1, "", "Error response from daemon: pull access denied for nope")),
        ]
    )
    drv = docker.DockerDriver(None, registry="10.0.0.1:5000", run=fake)
    with pytest.raises(PullError) as err:
        drv.ensure_image("nope:1", "IfNotPresent")
    assert err.value.reason == "ErrImagePull"
    assert "pull access denied for nope" in err.value.message
    assert "cluster registry 10.0.0.1:5000" in err.value.message


def test_ensure_image_present_is_not_pulled() -> None:
    fake = FakeDocker([(["image", "inspect", "busybox"], (0, IMAGE_JSON, ""))])
    drv = docker.DockerDriver(None, registry="10.0.0.1:5000", run=fake)
    info = drv.ensure_image("busybox", "IfNotPresent")
    assert info.digest == "sha256:1" and info.cmd == ["sh"]
    assert fake.calls == [["image", "inspect", "busybox"]]


@pytest.mark.parametrize(
    ("in_container", "info", "want"),
    [
        (False, (0, "true true\n", ""), True),  # an EL host with cgroups
        (False, (0, "false false\n", ""), False),  # docker without the memory controller
        (True, (0, "true true\n", ""), False),  # a lab host (nspawn): cgroups are read-only
        (False, (1, "", "Cannot connect"), False),
    ],
)
def test_enforces_limits(tmp_path: Path, in_container: bool, info: tuple[int, str, str], want: bool) -> None:
    marker = tmp_path / "container"
    if in_container:
        marker.write_text("systemd-nspawn\n")
    fake = FakeDocker([(["info"], info)])
    drv = docker.DockerDriver(None, run=fake, container_marker=str(marker))
    assert drv.enforces_limits is want
    assert drv.enforces_limits is want
    assert len(fake.calls) == 1  # asked once


def test_limits_of_a_container() -> None:
    from kubeform.agent.runtime.manager import limits_of

    assert limits_of({"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}}) == (500, 64 * 1024 * 1024)
    assert limits_of({"resources": {"requests": {"cpu": "1"}}}) == (0, 0)
    assert limits_of({}) == (0, 0)
    assert limits_of({"resources": {"limits": {"cpu": "lots"}}}) == (0, 0)
