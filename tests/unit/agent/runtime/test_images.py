"""The image store's pull policy and mirror order (kubeform.agent.runtime.images), with fake
skopeo and umoci on PATH that record their calls and act on a tiny OCI layout."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from kubeform.agent.runtime import imageref, images
from kubeform.agent.runtime.driver import PullError

CONFIG = {"config": {"Cmd": ["sh"], "Env": ["PATH=/bin"], "WorkingDir": "/w", "User": "1:2"}}

SKOPEO = r'''#!/usr/bin/env python3
import hashlib, json, os, sys
log = os.environ["FAKE_LOG"]
open(log, "a").write(json.dumps(["skopeo"] + sys.argv[1:]) + "\n")
src, dst = sys.argv[-2], sys.argv[-1]
if src not in os.environ.get("FAKE_HAVE", "").split(","):
    sys.stderr.write('time="x" level=fatal msg="initializing source %s: reading manifest 1 in x: manifest unknown"\n' % src)
    sys.exit(1)
layout, tag = dst[len("oci:"):].rsplit(":", 1)
os.makedirs(layout + "/blobs/sha256", exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(layout + "/blobs/sha256/" + h, "wb").write(data)
    return "sha256:" + h
cfg = put(os.environ["FAKE_CONFIG"].encode())
man = put(json.dumps({"schemaVersion": 2, "config": {"digest": cfg}, "layers": []}).encode())
idx = {"schemaVersion": 2, "manifests": []}
if os.path.exists(layout + "/index.json"):
    idx = json.load(open(layout + "/index.json"))
idx["manifests"].append({"digest": man, "annotations": {"org.opencontainers.image.ref.name": tag}})
json.dump(idx, open(layout + "/index.json", "w"))
'''
UMOCI = r'''#!/usr/bin/env python3
import json, os, sys
open(os.environ["FAKE_LOG"], "a").write(json.dumps(["umoci"] + sys.argv[1:]) + "\n")
os.makedirs(os.path.join(sys.argv[-1], "rootfs", "bin"))
'''


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> images.ImageStore:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("skopeo", SKOPEO), ("umoci", UMOCI)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "calls"))
    monkeypatch.setenv("FAKE_CONFIG", json.dumps(CONFIG))
    monkeypatch.setenv("FAKE_HAVE", "docker://10.0.0.1:5000/library/busybox:1")
    (tmp_path / "ca.crt").write_text("CA")
    return images.ImageStore(str(tmp_path / "state"), "10.0.0.1:5000", str(tmp_path / "ca.crt"))


def _calls(tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "calls"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_mirror_first_then_cached(store: images.ImageStore, tmp_path: Path) -> None:
    info = store.ensure_image("busybox:1", "IfNotPresent")
    assert (info.cmd, info.env, info.working_dir, info.user) == (["sh"], ["PATH=/bin"], "/w", "1:2")
    assert os.path.isdir(store.rootfs(info.digest))
    calls = _calls(tmp_path)
    assert [c[0] for c in calls] == ["skopeo", "umoci"]
    cert_dir = calls[0][calls[0].index("--src-cert-dir") + 1]
    assert Path(cert_dir, "ca.crt").read_text() == "CA"
    assert calls[0][-2] == "docker://10.0.0.1:5000/library/busybox:1"
    # present: no pull, no unpack; Never is fine too
    assert store.ensure_image("docker.io/library/busybox:1", "IfNotPresent").digest == info.digest
    assert store.ensure_image("busybox:1", "Never").digest == info.digest
    assert len(_calls(tmp_path)) == 2
    # Always pulls again (the digest is the same: no second unpack)
    store.ensure_image("busybox:1", "Always")
    assert [c[0] for c in _calls(tmp_path)] == ["skopeo", "umoci", "skopeo"]


def test_origin_after_mirror(store: images.ImageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_HAVE", "docker://quay.io/a/b:2")
    store.ensure_image("quay.io/a/b:2", "")
    sources = [c[-2] for c in _calls(tmp_path) if c[0] == "skopeo"]
    assert sources == ["docker://10.0.0.1:5000/a/b:2", "docker://quay.io/a/b:2"]
    assert "--src-cert-dir" not in _calls(tmp_path)[1]


def test_errors(store: images.ImageStore, tmp_path: Path) -> None:
    with pytest.raises(PullError) as never:
        store.ensure_image("nope:1", "Never")
    assert never.value.reason == "ErrImageNeverPull"
    assert _calls(tmp_path) == []
    with pytest.raises(PullError) as failed:
        store.ensure_image("nope:1", "IfNotPresent")
    assert failed.value.reason == "ErrImagePull"
    assert failed.value.message == "reading manifest 1 in x: manifest unknown"
    with pytest.raises(PullError) as bad:
        store.ensure_image("Bad:1", "IfNotPresent")
    assert bad.value.reason == "InvalidImageName"


def test_default_policy_latest_is_always(store: images.ImageStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_HAVE", "docker://10.0.0.1:5000/library/busybox:latest")
    store.ensure_image("busybox", "")
    store.ensure_image("busybox", "")
    assert [c[0] for c in _calls(tmp_path)].count("skopeo") == 2
    assert imageref.store_tag(imageref.normalize("busybox")) in (tmp_path / "state/images/oci/index.json").read_text()
