"""serviceaccount: which files a pod gets at /var/run/secrets/kubernetes.io/serviceaccount
and which containers mount them, from data files; reading the node's CA from disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeform.agent.runtime import serviceaccount
from kubeform.agent.runtime.driver import Mount

from .cases import case_files, load


@pytest.mark.parametrize("path", case_files("serviceaccount"), ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    case = load(path)
    pod = case["pod"]
    spec = pod["spec"]
    container = next(c for c in (spec.get("initContainers") or []) + spec["containers"] if c["name"] == case["container"])
    ca = case["ca"].encode() if case["ca"] else None
    if case["files"] is None:
        assert not serviceaccount.wanted(pod)
    else:
        assert serviceaccount.wanted(pod)
        got = serviceaccount.files(pod, ca)
        assert {k: v.data.decode() for k, v in got.items()} == case["files"]
        assert {v.mode for v in got.values()} == {0o644}
        assert "token" not in got  # kubeform has no API server to give a token for
    mount = serviceaccount.container_mount("/var/lib/kubeform", pod, container)
    if case["mount"] is None:
        assert mount is None
    else:
        assert mount == Mount(case["mount"], serviceaccount.MOUNT_PATH, True)


def test_volume_name_is_no_user_volume_name() -> None:
    from kubeform.api import syntax

    assert syntax.dns1123_label(serviceaccount.VOLUME_NAME) is not None  # a problem: never valid


def test_read_ca(tmp_path: Path) -> None:
    pem = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    (tmp_path / "ca.crt").write_bytes(pem)
    (tmp_path / "empty.crt").write_bytes(b"")
    assert serviceaccount.read_ca(str(tmp_path / "ca.crt")) == pem
    assert serviceaccount.read_ca(str(tmp_path / "empty.crt")) is None
    assert serviceaccount.read_ca(str(tmp_path / "missing.crt")) is None
