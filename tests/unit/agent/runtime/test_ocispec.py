"""OCI runtime specs for pods (kubeform.agent.runtime.ocispec), against golden files.

Regenerate a golden file after an intended change with KF_GOLDEN=1 and review its diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeform.agent.runtime import ocispec
from kubeform.agent.runtime.driver import ContainerSpec, ImageInfo, Mount

DATA = Path(__file__).parents[3] / "data" / "agent_runtime" / "ocispec"
USERS: dict[str, Any] = yaml.safe_load((DATA / "users.yaml").read_text())


def _golden(name: str, got: dict[str, Any]) -> None:
    path = DATA / name
    if os.environ.get("KF_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
    assert got == json.loads(path.read_text())


def _spec() -> tuple[ContainerSpec, dict[str, Any]]:
    raw = yaml.safe_load((DATA / "container_input.yaml").read_text())
    s = dict(raw["spec"])
    s["image"] = ImageInfo(**s["image"])
    s["mounts"] = [Mount(*m) for m in s["mounts"]]
    return ContainerSpec(**s), raw


def test_container_golden() -> None:
    spec, raw = _spec()
    ns = ocispec.PodNamespaces(raw["netns"], raw["pause_pid"])
    _golden("container.json", ocispec.container_config(spec, raw["rootfs"], ns, raw["pod_files"], 101, 101))


def test_container_joins_pause_and_netns() -> None:
    spec, raw = _spec()
    got = ocispec.container_config(spec, "/r", ocispec.PodNamespaces("/run/netns/x", 77), raw["pod_files"], 0, 0)
    nss = {n["type"]: n.get("path") for n in got["linux"]["namespaces"]}
    assert nss == {"pid": None, "mount": None, "network": "/run/netns/x",
                   "ipc": "/proc/77/ns/ipc", "uts": "/proc/77/ns/uts"}
    assert "hostname" not in got  # the pause's UTS namespace already has it
    # the pod spec's own /etc/hosts mount wins over the sandbox's file
    hosts = [m["source"] for m in got["mounts"] if m["destination"] == "/etc/hosts"]
    assert hosts == [spec.mounts[1].host_path]


def test_pause_golden() -> None:
    got = ocispec.pause_config(
        "/var/lib/kubeform/pause/rootfs", ocispec.PodNamespaces("/run/netns/kf-6a1c2f4e0b7d", 0), "web",
        "6a1c2f4e-0b7d-4c55-9a11-3e2f4d5c6b7a", "default", "web",
    )
    _golden("pause.json", got)


@pytest.mark.parametrize("case", USERS["cases"], ids=lambda c: c["name"])
def test_resolve_user(case: dict[str, Any]) -> None:
    args = (case.get("uid"), case.get("gid"), case["image_user"], USERS["passwd"], USERS["group"])
    if "error" in case:
        with pytest.raises(ValueError, match=case["error"]):
            ocispec.resolve_user(*args)
        return
    assert list(ocispec.resolve_user(*args)) == case["want"]
