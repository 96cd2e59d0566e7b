"""Local persistent volumes on the node: claim directories and what is reclaimed
(tests/data/agent_runtime/localvolumes/), plus the directory's modes and a pod's mounts."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from kubeform.agent.runtime import localvolumes, volumes

from .cases import DATA, load

CLAIMS = load(DATA / "localvolumes" / "claims.yaml")
RECLAIM = load(DATA / "localvolumes" / "reclaim.yaml")


@pytest.mark.parametrize("case", CLAIMS["cases"], ids=lambda c: c["claim"])
def test_claim_path(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(localvolumes.ClaimError) as err:
            localvolumes.claim_path(case["claim"], CLAIMS["claims"], CLAIMS["volumes"], "kf-node1")
        assert str(err.value) == case["error"]
    else:
        assert localvolumes.claim_path(case["claim"], CLAIMS["claims"], CLAIMS["volumes"], "kf-node1") == case["path"]


def test_reclaim() -> None:
    vols = {k: (7, v) for k, v in RECLAIM["volumes"].items()}
    got = localvolumes.to_reclaim(vols, "kf-node1", set(RECLAIM["in_use"]))
    assert [r.key for r in got] == RECLAIM["expected"]
    assert got[0].mod_revision == 7 and got[0].path == "/var/lib/kubeform/volumes/pvc-1_default_www-web-0"


@pytest.mark.parametrize("case", RECLAIM["safe_paths"], ids=lambda c: c["path"])
def test_safe_volume_path(case: dict[str, Any]) -> None:
    pv = {"metadata": {"name": case["name"]}, "spec": {"hostPath": {"path": case["path"]}}}
    assert localvolumes.safe_volume_path(pv) is case["safe"]


def test_claim_volume_mounted_and_made(tmp_path: Path) -> None:
    """A pod's claim volume: the volume's directory (made: root 0700, directory 0777), mounted
    read-write (read-only when the volume says so); the data stays when the pod goes."""
    root = tmp_path / "volumes"
    path = str(root / "pvc-1_default_www-web-0")
    pv = {"metadata": {"name": "pvc-1"}, "spec": {"hostPath": {"path": path}}}
    pod = {
        "metadata": {"uid": "u1", "namespace": "default"},
        "spec": {
            "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www-web-0"}},
                        {"name": "ro", "persistentVolumeClaim": {"claimName": "www-web-0", "readOnly": True}}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "www", "mountPath": "/data"}, {"name": "ro", "mountPath": "/ro"}]}],
        },
    }
    claims = volumes.claim_paths(pod, {"www-web-0": {"spec": {"volumeName": "pvc-1"}}}, {"pvc-1": pv}, "kf-node1")
    assert claims == {"www-web-0": path}
    state = str(tmp_path / "state")
    volumes.setup_volume(state, pod, pod["spec"]["volumes"][0], {}, {}, "s", claims=claims)
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o777
    mounts = volumes.container_mounts(state, pod, pod["spec"]["containers"][0], claims)
    assert [(m.host_path, m.container_path, m.read_only) for m in mounts] == [(path, "/data", False), (path, "/ro", True)]
    Path(path, "kept").write_text("data")
    volumes.teardown(state, "u1")
    assert Path(path, "kept").read_text() == "data"


def test_unbound_claim_is_a_volume_error(tmp_path: Path) -> None:
    pod = {"metadata": {"uid": "u1"}, "spec": {"volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "c"}}]}}
    claims = volumes.claim_paths(pod, {"c": {"spec": {}}}, {}, "kf-node1")
    with pytest.raises(volumes.VolumeError, match='persistentvolumeclaim "c" is not bound yet'):
        volumes.setup_volume(str(tmp_path), pod, pod["spec"]["volumes"][0], {}, {}, "s", claims=claims)


def test_remove_dir(tmp_path: Path) -> None:
    d = tmp_path / "pvc-1_default_a"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "f").write_text("x")
    localvolumes.remove_dir(str(d))
    assert not d.exists()
    localvolumes.remove_dir(str(d))  # gone already is fine
