"""The crun driver on a lab host, driven directly (no agent loop): images, sandbox, logs,
localhost between containers, the shim surviving its agent's kill -9, clean removal.

Where it runs: the ``pods_cluster`` fixture's crun node when tests/lab/conftest.py has
it, or an existing lab already through ``kubeform up`` named by KF_CRUN_LAB (host
KF_CRUN_HOST, default kf-node1), e.g. KF_CRUN_LAB=kfcrun. The working tree's kubeform
code and tests/lab/crun_scenario.py are shipped to a scratch directory on the host,
removed at the end, also on failure.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import json
import os
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubeform.bootstrap.cluster_plan import HOST_PACKAGES
from kubeform.lab import manager
from kubeform.lab.state import LabState
from tests.lab.busybox_oci import BUILDER
from tests.lab.remote import ssh

ROOT = Path(__file__).parents[2]


def _code_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel in ("kubeform/__init__.py", "kubeform/errors.py"):
            tar.add(ROOT / rel, arcname="code/" + rel)
        for package in HOST_PACKAGES:  # what `up` ships: the agent imports kubeform.api
            for path in sorted((ROOT / "kubeform" / package).rglob("*.py")):
                tar.add(path, arcname="code/" + str(path.relative_to(ROOT)))
        for name, text in (("scenario.py", (ROOT / "tests/lab/crun_scenario.py").read_text()), ("builder.py", BUILDER)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def crun_host(request: pytest.FixtureRequest) -> Iterator[tuple[LabState, str]]:
    name = os.environ.get("KF_CRUN_LAB")
    if name:
        st = manager.load_state(name)
        if st is None:
            pytest.skip(f"lab {name} does not exist")
        yield st, os.environ.get("KF_CRUN_HOST", "kf-node1")
        return
    try:
        cluster = request.getfixturevalue("pods_cluster")
    except pytest.FixtureLookupError:
        pytest.skip("needs the pods_cluster fixture (tests/lab/conftest.py) or KF_CRUN_LAB=<lab>")
    st = cluster if hasattr(cluster, "directory") else cluster.lab
    yield st, "kf-node1"


@pytest.fixture(scope="module")
def work(crun_host: tuple[LabState, str]) -> Iterator[tuple[LabState, str, str]]:
    st, host = crun_host
    path = "/tmp/kf-crun-test-" + uuid.uuid4().hex[:12]
    payload = base64.b64encode(_code_tar()).decode()
    # in pieces: one argument of a command line may not exceed 128 KiB (MAX_ARG_STRLEN)
    ssh(st, host, f"mkdir -p {path} && rm -f {path}.b64")
    for at in range(0, len(payload), 64 * 1024):
        ssh(st, host, f"printf %s {payload[at:at + 64 * 1024]} >> {path}.b64")
    ssh(st, host, f"base64 -d {path}.b64 | tar xzf - -C {path} && rm -f {path}.b64")
    try:
        yield st, host, path
    finally:
        text = ssh(st, host, f"python3 {path}/scenario.py cleanup {path}", check=False)
        assert '"cleaned": true' in text, text


def _phase(work: tuple[LabState, str, str], phase: str, check: bool = True) -> list[dict[str, Any]]:
    st, host, path = work
    text = ssh(st, host, f"python3 {path}/scenario.py {phase} {path}", check=check)
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_crun_runtime_end_to_end(work: tuple[LabState, str, str]) -> None:
    # images: the mirror (a TLS registry on the host) serves the same repository path
    (img,) = _phase(work, "image")
    assert img["rootfs"] and img["same"]
    assert img["image"]["cmd"] == ["sh"] and img["image"]["digest"].startswith("sha256:")
    errs = img["errors"]
    assert errs["kubeform-test/not-there:1 Never"][0] == "ErrImageNeverPull"
    reason, message = errs["kubeform-test/not-there:1 IfNotPresent"]
    assert reason == "ErrImagePull" and "Traceback" not in message and len(message) < 500
    assert errs["Bad/Name IfNotPresent"][0] == "InvalidImageName"

    # an agent starts a pod, then dies by kill -9
    (started,) = _phase(work, "start", check=False)
    sb = started["sandbox"]
    assert sb["ready"] and sb["netns_path"].startswith("/run/netns/kf-")
    assert ipaddress.ip_address(sb["ip"]) in ipaddress.ip_network(started["subnet"])
    assert started["hosts"] == f"{sb['ip']}\tcrunpod"
    assert started["ipam_owner"] == sb["id"]

    # the restarted agent finds everything as it was, duplicates nothing
    checked, removed = _phase(work, "check")
    assert [s["ip"] for s in checked["sandboxes"]] == [sb["ip"]] and checked["again"]["ip"] == sb["ip"]
    cs = checked["containers"]
    assert cs["server"]["state"] == "running" and cs["client"]["state"] == "running"
    assert cs["once"]["state"] == "exited" and cs["once"]["exit_code"] == 3 and cs["once"]["reason"] == "Error"
    assert checked["restarted"] == {"server": cs["server"]["id"], "client": cs["client"]["id"]}
    assert checked["shims"] == 2  # server and client; once's ended with it, orphan's was killed
    assert checked["orphan"] == ["running"]  # not "exited": that would start a second copy
    logs = checked["logs"]
    assert any(line.endswith(" stdout F serving as crunpod") for line in logs["server"])
    assert any(line.endswith(" stdout F hello-over-localhost") for line in logs["client"])
    assert any(line.endswith(" stderr F line2") for line in logs["client"])
    assert logs["once"][0].endswith(" stdout F bye")
    assert "nameserver 10.96.0.10" in checked["exec"]
    assert checked["usage"]["memory_bytes"] > 0
    assert checked["hostport"].strip() == "hello-over-localhost"  # hostPort 18080 via portmap
    ended = checked["ended"]
    assert ended["client"]["exit_code"] == 0 and checked["client_stop_s"] < 5
    assert ended["server"]["exit_code"] == 137 and 1 <= checked["server_stop_s"] < 5
    assert removed["left"] == {"netns": False, "crun": [], "containers": [], "pods": [], "mounts": [],
                               "shims": [], "ips": [], "hostport_rules": "0"}
    print(json.dumps({"pull_s": img["pull_s"], "cached_s": img["cached_s"], "sandbox_s": started["sandbox_s"],
                      "start_s": started["start_s"], "remove_s": removed["remove_s"]}))
