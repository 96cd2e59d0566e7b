"""Regressions found by using the object verbs as a Kubernetes user would (real TLS etcd)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kubeform.cli.main import main

if TYPE_CHECKING:
    from tests.etcd_server import EtcdServer

pytest_plugins = ["tests.etcd_server"]

pytestmark = pytest.mark.integration

SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: secret-basic-auth
type: kubernetes.io/basic-auth
stringData:
  username: admin
  password: t0p-Secret
"""


def run(capsys: pytest.CaptureFixture[str], etcd: EtcdServer, *argv: str) -> tuple[int, str, str]:
    rc = main([*argv, "--cluster", str(etcd.cluster.path)])
    out, err = capsys.readouterr()
    return rc, out, err


def test_annotate_says_annotated(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, etcd_clean, "create", "configmap", "c", "--from-literal", "a=1")[0] == 0
    rc, out, _ = run(capsys, etcd_clean, "annotate", "cm", "c", "note=hello")
    assert (rc, out) == (0, "configmap/c annotated\n")
    rc, _, err = run(capsys, etcd_clean, "annotate", "cm", "c", "note=other")
    assert rc == 1 and "annotation 'note' already has a value (hello)" in err
    rc, out, _ = run(capsys, etcd_clean, "annotate", "cm", "c", "note=hello")
    assert out == "configmap/c not annotated (no change)\n"
    rc, out, _ = run(capsys, etcd_clean, "label", "cm", "c", "app=web")
    assert out == "configmap/c labeled\n"


def test_secret_hashes_are_keyed(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The public sha256 of 'admin' would give the value away; the cluster key hides it."""
    f = tmp_path / "s.yaml"
    f.write_text(SECRET)
    public = hashlib.sha256(b"admin").hexdigest()[:12]
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(f))
    assert rc == 1 and "<secret sha256:" in out and public not in out and "admin" not in out
    assert run(capsys, etcd_clean, "apply", "-f", str(f))[0] == 0
    rc, out, _ = run(capsys, etcd_clean, "get", "secret", "secret-basic-auth", "-o", "yaml")
    assert "<secret sha256:" in out and public not in out
    rc, again, _ = run(capsys, etcd_clean, "get", "secret", "secret-basic-auth", "-o", "yaml")
    assert again == out  # stable for one cluster
    f.write_text(SECRET.replace("t0p-Secret", "changed"))
    rc, out, _ = run(capsys, etcd_clean, "diff", "-f", str(f))
    assert rc == 1 and "-  password: <secret sha256:" in out and "len 7>" in out


def test_get_yaml_has_stable_key_order(etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str]) -> None:
    """apiVersion, kind, metadata first; metadata keys sorted, as kubectl prints them."""
    assert run(capsys, etcd_clean, "create", "namespace", "team")[0] == 0
    rc, out, _ = run(capsys, etcd_clean, "get", "ns", "team", "-o", "yaml")
    assert rc == 0
    lines = out.splitlines()
    assert lines[:3] == ["apiVersion: v1", "kind: Namespace", "metadata:"]
    end = next(i for i, ln in enumerate(lines[3:], start=3) if not ln.startswith(" "))
    meta_keys = [ln.strip().split(":")[0] for ln in lines[3:end] if not ln.startswith("   ")]
    assert meta_keys[:2] == ["creationTimestamp", "generation"]
    assert meta_keys == sorted(meta_keys)


def test_namespace_flag_conflict(
    etcd_clean: EtcdServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """apply/diff/delete -f with -n that contradicts the manifest's namespace: an error, nothing stored."""
    f = tmp_path / "cm.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n")
    for verb in ("apply", "diff", "delete"):
        rc, out, err = run(capsys, etcd_clean, verb, "-f", str(f), "-n", "other")
        assert rc in (1, 2) and out == ""
        assert "cm.yaml (document 1):5: metadata.namespace: the manifest's namespace 'default'" in err
    assert etcd_clean.client().get_prefix("/registry/") == []
    assert run(capsys, etcd_clean, "apply", "-f", str(f), "-n", "default")[0] == 0
